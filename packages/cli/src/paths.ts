import { homedir } from 'node:os';
import { join } from 'node:path';

/** Where the CLI keeps its state: `$GATEHOUSE_HOME`, default `~/.gatehouse`. */
export function gatehouseHome(): string {
  return process.env.GATEHOUSE_HOME || join(homedir(), '.gatehouse');
}

export function credentialsPath(): string {
  return join(gatehouseHome(), 'credentials.json');
}
