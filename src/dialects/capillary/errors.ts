import { ClienteleError, type ErrorCode } from '../../core/errors.js';
import { type ErrorRenderer, type FieldNames, platformStatus, problemText } from '../common.js';

/** Capillary's errors: `{"errors": [{"status": false, "code", "message"}]}`, with its codes. */

/** A Capillary error with its own numeric code. */
export function capillaryError(code: number, status: ErrorCode, message: string): ClienteleError {
  return new ClienteleError(status, message, [], { capillaryCode: code });
}

export const renderCapillaryError: ErrorRenderer = (error) => {
  const status = platformStatus(error);
  const capillaryCode =
    (error.details?.capillaryCode as number | undefined) ??
    (status === 401 ? 401 : status === 404 ? 8015 : status === 422 ? 8000 + 422 : status);
  const message =
    error.code === 'customer_not_found'
      ? 'Customer not found for the given identifier'
      : problemText(error);
  return { status, body: { errors: [{ status: false, code: capillaryCode, message }] } };
};

/** The core's fields as Capillary's body names them (a phone number is a `mobile`). */
export const capillaryFieldNames: FieldNames = {
  '/query/email': '/query/identifierValue',
  '/query/phone': '/query/identifierValue',
  '/phone': '/mobile',
  '/phoneNumbers': '/mobile',
  '/customFields': '/profiles/fields',
  '/channels': '/profiles/commChannels',
  '/loyalty': '/loyaltyInfo',
  '/loyalty/status': '/loyaltyInfo/loyaltyType',
  '/loyalty/enrollments': '/loyaltyProgramEnrollments',
};
