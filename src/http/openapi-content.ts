/**
 * What the API reference shows of an operation beyond its route's own schema, by
 * operationId: the summaries of the dialects' routes (the platforms name their own
 * operations; these say what Clientele does with them), and the request body each
 * write shows. The dialects'
 * are the bodies of their platforms' own pages (the seed pages the product was specified
 * from: Cheqpay's and Voucherify's as they are (Cheqpay's email, hidden on the captured
 * page, as john.doe@example.com), Redo's custom fields and phone number as
 * its page gives them, Yotpo's and Capillary's built from the fields their pages list),
 * and the native ones the product's own customer. test/http/openapi-examples.test.ts
 * sends each of them to its route and fails unless it is accepted.
 */

export const dialectSummaries: Record<string, string> = {
  redoUpsertCustomer: 'Create or update a customer, found by email',
  redoGetCustomer: 'Read a customer by email',
  yotpoCreateAccessToken: 'Exchange a store key (the secret) for an access token',
  yotpoUpsertCustomer: 'Create or update a customer, found by external_id, else email or phone',
  yotpoListCustomers: 'Find customers by external ids, emails or phone numbers, or list them',
  capillaryUpdateCustomer: "Update the customer the query's identifier names (update only)",
  capillaryGetCustomer: "The integer id of the customer the query's identifier names",
  cheqpayUpsertCustomer: 'Create or update a customer, found by externalId',
  cheqpayGetCustomer: 'Read a customer by its id or externalId',
  voucherifyUpsertCustomer: 'Create a customer, or update the one an id or source_id names',
  voucherifyUpdateCustomer: 'Update a customer by its id or source_id',
  voucherifyGetCustomer: 'Read a customer by its id or source_id',
  voucherifyDeleteCustomer: 'Delete a customer and everything stored about it',
  voucherifyListCustomers: 'List customers, a page at a time, optionally by email',
};

/** The custom fields of Redo's page, which PRODUCT.md's customer carries too. */
const seedCustomFields = {
  subscription_source: 'web',
  status: 'Active',
  loyalty_points: 1250,
  vip_member: true,
  signup_date: '2026-02-24T12:15:00.000Z',
};

/** Active Boston customers with more than 1,000 points who signed up in the last 30 days. */
const segmentFilter = {
  and: [
    { field: 'customFields.status', op: 'eq', value: 'Active' },
    { field: 'location.city', op: 'eq', value: 'Boston' },
    { field: 'customFields.loyalty_points', op: 'gt', value: 1000 },
    { field: 'createdAt', op: 'in_the_last', value: { amount: 30, unit: 'day' } },
  ],
};

export const bodyExamples: Record<string, unknown> = {
  createStore: { name: 'Acme' },
  updateStore: {
    settings: { identityConflict: 'merge', aliases: { redo: '64e5a8a1af49a89df37e4ee7' } },
  },
  createApiKey: { name: 'CI deploy' },
  mergeCustomers: { sourceIds: ['cust_01JD…'] },
  upsertCustomer: {
    externalId: 'CUST-123',
    email: 'jane@example.com',
    phoneNumber: '+12345678900',
    firstName: 'Jane',
    lastName: 'Doe',
    birthdate: '1990-01-31',
    location: { city: 'Boston', region: 'MA', postalCode: '02110', countryCode: 'US' },
    identifiers: [{ type: 'wechat', value: 'wx_123' }],
    customFields: seedCustomFields,
    metadata: { lang: 'en' },
  },
  createWebhookEndpoint: {
    url: 'https://example.com/hooks/clientele',
    events: ['customer.created', 'customer.updated'],
    description: 'the back office',
  },
  updateWebhookEndpoint: { events: ['*'], enabled: true },
  redeliverWebhookEvent: { eventId: 'evt_01JD…' },
  replayWebhookEvents: { since: '2026-12-01T00:00:00Z' },
  createSegment: { name: 'Boston loyalists', filter: segmentFilter },
  updateSegment: { name: 'Boston loyalists, new this month' },
  previewSegment: { filter: segmentFilter },

  redoUpsertCustomer: {
    email: 'jane@example.com',
    firstName: 'Jane',
    lastName: 'Doe',
    phoneNumber: '+12345678900',
    location: { city: 'Boston', state: 'Massachusetts', stateCode: 'MA', countryCode: 'US' },
    customFields: seedCustomFields,
  },
  yotpoCreateAccessToken: { secret: 'ck_…' },
  yotpoUpsertCustomer: {
    customer: {
      external_id: 'CUST-123',
      email: 'jane@example.com',
      first_name: 'Jane',
      last_name: 'Doe',
      accepts_email_marketing: true,
      address: { city: 'Boston', province_code: 'MA', country_code: 'US', zip: '02110' },
      custom_properties: { loyalty_points: 1250, vip_member: true },
    },
  },
  capillaryUpdateCustomer: {
    loyaltyInfo: { loyaltyType: 'loyalty' },
    profiles: [
      {
        firstName: 'Jane',
        lastName: 'Doe',
        identifiers: [{ type: 'wechat', value: 'wx_123' }],
        commChannels: [
          { type: 'email', value: 'jane@example.com', primary: true, verified: false },
        ],
        fields: { loyalty_points: 1250 },
      },
    ],
  },
  cheqpayUpsertCustomer: {
    externalId: 'CUST-123',
    firstName: 'John',
    lastName: 'Doe',
    email: 'john.doe@example.com',
    phoneNumber: '+1234567890',
    active: true,
    notificationOptions: { notifyEmail: false, notifyPhone: false },
  },
  voucherifyUpsertCustomer: {
    source_id: 'source_123',
    name: 'Bob Smith',
    description: 'A frequent customer',
    email: 'bob.smith@email.com',
    phone: '+1 933 222 3333',
    address: {
      city: 'New York',
      country: 'United States',
      line_1: '123 Main St.',
      line_2: 'APT 3 BLG 4',
      postal_code: '10001',
      state: 'NY',
    },
    metadata: { lang: 'en', test: true },
    birthdate: '2022-01-01',
  },
  voucherifyUpdateCustomer: { description: 'A frequent customer', metadata: { lang: 'en' } },
};
