import type { DB } from '../db/database.js';

/**
 * What migration 0009 found two holders for and left as it was (`identity_collisions`),
 * until the operator settles each and deletes its row (docs/operations.md).
 */
export async function countIdentityCollisions(db: DB): Promise<number> {
  const row = await db
    .selectFrom('identity_collisions')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}
