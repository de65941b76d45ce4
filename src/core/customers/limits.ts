/** The limits of PRODUCT.md. Past one, a request gets a 4xx that names it. */
export const limits = {
  customFieldsPerRequest: 300,
  declarationsPerStore: 1000,
  stringLength: 2048,
  phoneNumbersPerCustomer: 50,
  identifiersPerCustomer: 50,
  /** Emails and external ids a customer answers to since merges (mergedIdentifiers). */
  mergedIdentifiersPerCustomer: 50,
  metadataBytes: 16 * 1024,
} as const;
