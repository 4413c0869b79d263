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
const schemaNames = new Set<string>(settingNames);

/**
 * Changes whenever a setting could have changed: which variables are set at all (one
 * enumeration), and the value of each set variable the schema reads. Reading a few set
 * variables is much cheaper than asking for every name of the schema (each read of
 * `process.env` is a call into the C++ environment).
 */
function fingerprint(env: NodeJS.ProcessEnv): string {
  const names = Object.keys(env);
  let key = names.join('\u0000');
  for (const n of names) if (schemaNames.has(n)) key += `\u0001${n}=${env[n]}`;
  return key;
}

/**
 * The settings of this process, parsed from `process.env` (or the given `env`). The
 * parse is done once and reused for as long as the variables it reads are unchanged
 * (a launcher such as npm start fills some in before it starts its children; tests
 * set some before loading a module). Telling "unchanged" costs one enumeration of the
 * environment (tens of µs): read settings at start or per object, not per request.
 */
export function loadSettings(env: NodeJS.ProcessEnv = process.env): Settings {
  const key = fingerprint(env);
  if (cached?.key === key) return cached.settings;
  const settings = parseSettings(env);
  cached = { key, settings };
  return settings;
}
