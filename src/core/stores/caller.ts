/** Who is calling: the store a valid key belongs to, and which key it was. */
export interface Caller {
  storeId: string;
  keyId: string;
}
