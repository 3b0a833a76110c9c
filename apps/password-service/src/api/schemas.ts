import { z } from 'zod';

/**
 * Request bodies, validated with zod. Error messages are built from the issue path and kind only,
 * never from the input (it carries passwords).
 */
// SAMPR_ENCRYPTED_USER_PASSWORD holds at most 512 bytes of UTF-16: 256 characters.
const password = (what: string) =>
  z
    .string({ error: `${what} must be a string` })
    .min(1, `${what} must not be empty`)
    .max(256, `${what} is longer than the 256 characters an NT4 password can hold`)
    .refine((p) => !p.includes('\u0000'), `${what} must not contain a NUL character`);

export const targetRefSchema = z.object({ connector: z.string().min(1), anchor: z.string().min(1) }).strict();

export const setPasswordBodySchema = z
  .object({
    newPassword: password('newPassword'),
    targets: z.array(targetRefSchema).min(1).max(100).optional(),
    forceChangeAtNextLogon: z.boolean().default(false),
    unlock: z.boolean().default(false),
  })
  .strict();

export const changePasswordBodySchema = z
  .object({
    oldPassword: password('oldPassword'),
    newPassword: password('newPassword'),
  })
  .strict();

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** `GET /operations?mvObjectId=&connector=&anchor=&requestedBy=&limit=` (connector and anchor together). */
export const listOperationsQuerySchema = z
  .object({
    mvObjectId: z.string().regex(UUID, 'must be a metaverse object id (a UUID)').optional(),
    connector: z.string().min(1).optional(),
    anchor: z.string().min(1).optional(),
    requestedBy: z.string().min(1).optional(),
    limit: z.coerce.number().int().min(1).max(1000).default(50),
  })
  .strict()
  .refine((q) => (q.connector === undefined) === (q.anchor === undefined), { message: 'give connector and anchor together', path: ['anchor'] });

/**
 * Issues as safe text: "path: message" — zod's messages name the expectation, not the value.
 * Unknown field names are not echoed either (a misplaced password could be one): the allowed
 * fields are named instead.
 */
export function describeIssues(error: z.ZodError, schema?: z.ZodObject): string[] {
  return error.issues.map((i) => {
    const path = i.path.length ? i.path.map(String).join('.') : '(body)';
    if (i.code === 'unrecognized_keys') {
      const allowed = i.path.length === 0 && schema ? `; allowed: ${Object.keys(schema.shape).join(', ')}` : '';
      return `${path}: ${i.keys.length} unknown field(s)${allowed}`;
    }
    return `${path}: ${i.message}`;
  });
}
