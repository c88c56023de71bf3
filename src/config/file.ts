import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { ConfigError } from './config.js';
import { OPTIONS, type OptionSpec } from './options.js';

/**
 * Reads a YAML configuration file: a mapping whose keys are the options' flag names
 * (`grpc-endpoint: 0.0.0.0:4317`, `writers: 4`, `auth-token: [a, b]`). Values become the same
 * strings a flag would carry, so one validator checks all three sources. Unknown keys and values
 * of the wrong shape are refused, each named with the file.
 */
export function readConfigFile(file: string): Record<string, string> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError([`--config: cannot read ${file}: ${(err as Error).message}`]);
  }
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    throw new ConfigError([`--config: ${file} is not valid YAML: ${(err as Error).message.split('\n')[0]}`]);
  }
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== 'object' || Array.isArray(doc)) throw new ConfigError([`--config: ${file} must be a mapping of option names to values`]);

  const byFlag = new Map<string, OptionSpec>(Object.values(OPTIONS).map((spec: OptionSpec) => [spec.flag, spec]));
  const violations: string[] = [];
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(doc as Record<string, unknown>)) {
    const spec = byFlag.get(key);
    if (!spec) {
      violations.push(`${key} (in ${file}): unknown option; known: ${[...byFlag.keys()].join(', ')}`);
      continue;
    }
    if (spec.type === 'list' && Array.isArray(value) && value.every((v) => typeof v === 'string')) {
      out[key] = value.join(',');
    } else if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
      out[key] = String(value);
    } else {
      violations.push(`${key} (in ${file}): must be a single value${spec.type === 'list' ? ' or a list of strings' : ''}`);
    }
  }
  if (violations.length > 0) throw new ConfigError(violations);
  return out;
}
