import { type Settings, settingNames, settingsSchema } from './schema';

/**
 * A setting with a value it cannot take. The message names the variable and the rule,
 * so whoever started the process knows what to change; it is thrown at start, before
 * anything listens or writes.
 */
export class SettingsError extends Error {
  override readonly name = 'SettingsError';
}

/** Parses `env` against the schema; throws one `SettingsError` listing every bad variable. */
export function parseSettings(env: NodeJS.ProcessEnv): Settings {
  const r = settingsSchema.safeParse(env);
  if (r.success) return r.data;
  const lines = r.error.issues.map((i) => `${String(i.path[0] ?? '?')} ${i.message}`);
  throw new SettingsError(`Bad setting: ${lines.join('; ')}`);
}

let cached: { key: string; settings: Settings } | undefined;

/**
 * The settings of this process, parsed from `process.env` (or the given `env`). The
 * parse is done once and reused for as long as the variables it reads are unchanged
 * (a launcher such as npm start fills some in before it starts its children; tests
 * set some before loading a module). Telling "unchanged" reads every variable of the
 * schema (about 100 µs on this machine under load): read settings at start or per
 * object, never per request or per loop round.
 */
export function loadSettings(env: NodeJS.ProcessEnv = process.env): Settings {
  const key = settingNames.map((n) => env[n] ?? '\u0001').join('\u0000');
  if (cached?.key === key) return cached.settings;
  const settings = parseSettings(env);
  cached = { key, settings };
  return settings;
}
