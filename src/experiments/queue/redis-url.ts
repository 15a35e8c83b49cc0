/**
 * `--queue redis://[user:password@]host[:port][/db]` (or `rediss://` for TLS) → ioredis connection options, with a
 * one-line error for anything else. A password never appears in messages: `redactedUrl` prints it as `***`.
 */
import { UserError } from '../../core/util/errors.js';

export interface RedisConnection {
  host: string;
  port: number;
  db: number;
  username?: string;
  password?: string;
  tls?: Record<string, never>;
}

const HOW = 'give redis://[:password@]host[:port][/db] or rediss://… for TLS';

export function parseRedisUrl(raw: string, flag = '--queue'): RedisConnection {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new UserError(`${flag} ${JSON.stringify(redactedUrl(raw))} is not a URL; ${HOW}`);
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') throw new UserError(`${flag} ${redactedUrl(raw)}: the scheme must be redis: or rediss:, got ${u.protocol}; ${HOW}`);
  if (u.hostname === '') throw new UserError(`${flag} ${redactedUrl(raw)} names no host; ${HOW}`);
  const port = u.port === '' ? 6379 : Number(u.port);
  const path = u.pathname.replace(/^\//, '');
  const db = path === '' ? 0 : Number(path);
  if (!Number.isInteger(db) || db < 0 || db > 15 || !/^\d*$/.test(path)) throw new UserError(`${flag} ${redactedUrl(raw)}: the database must be a number 0–15, got ${JSON.stringify(path)}; ${HOW}`);
  if (u.search !== '' || u.hash !== '') throw new UserError(`${flag} ${redactedUrl(raw)}: query strings and fragments are not used; ${HOW}`);
  return {
    host: u.hostname.replace(/^\[(.*)\]$/, '$1'),
    port,
    db,
    ...(u.username === '' ? {} : { username: decodeURIComponent(u.username) }),
    ...(u.password === '' ? {} : { password: decodeURIComponent(u.password) }),
    ...(u.protocol === 'rediss:' ? { tls: {} } : {}),
  };
}

/** The URL as it may be printed: any password replaced by `***`. */
export function redactedUrl(raw: string): string {
  return raw.replace(/^(rediss?:\/\/[^:/@]*:)[^@/]*@/, '$1***@');
}
