import type { Command } from 'commander';
import { compactVerify, createLocalJWKSet, type JSONWebKeySet } from 'jose';
import { callServer } from '../../server-call.js';
import { CliError, ExitCode, out } from '../../ui.js';
import { serverFor } from '../login.js';
import { type AuditEvent, ChainWalk } from './audit-chain.js';
import type { AdminContext, AdminOptions } from './context.js';

const PAGE = 500;
/** What the server signs checkpoints as (`security/identity-tokens.ts`). */
const CHECKPOINT_TYPE = 'gatehouse-audit-checkpoint+jws';

interface Checkpoint {
  seq: number;
  hash: string;
  jws: string;
}

/** `gatehouse admin audit`: read the audit log, and prove it has not been edited. */
export function registerAudit(admin: Command, context: AdminContext, options: () => AdminOptions): void {
  const audit = admin.command('audit').description('The audit log');
  audit
    .command('list')
    .description('Recent audit events, newest first')
    .option('--action <action>', 'e.g. budgets.update, sign_in.failed')
    .option('--actor <id>', 'admin token, person or SCIM token id')
    .option('--target-type <type>')
    .option('--target <id>', 'target id')
    .option('--since <time>', 'ISO 8601')
    .option('--until <time>', 'ISO 8601')
    .option('--limit <n>', 'at most this many (1-500)', '50')
    .action(
      async (flags: {
        action?: string;
        actor?: string;
        targetType?: string;
        target?: string;
        since?: string;
        until?: string;
        limit: string;
      }) => {
        const query = new URLSearchParams();
        const set = (name: string, value: string | undefined) => value && query.set(name, value);
        set('action', flags.action);
        set('actorId', flags.actor);
        set('targetType', flags.targetType);
        set('targetId', flags.target);
        set('since', flags.since);
        set('until', flags.until);
        set('limit', flags.limit);
        context.show(await context.call('GET', `/audit?${query}`), [
          'seq',
          'occurredAt',
          'actorKind',
          'actorLabel',
          'action',
          'targetType',
          'targetId',
          'sourceIp',
        ]);
      },
    );
  audit
    .command('verify')
    .description('Prove the chain intact, or name the first broken event')
    .option('--jwks <url>', "the checkpoints' public keys (default: the server's /.well-known/jwks.json)")
    .action(async (flags: { jwks?: string }) => {
      // First: the server signs a checkpoint of its head now, so the walk ends on a signed hash.
      const { data: checkpoints } = (await context.call('GET', '/audit/checkpoints')) as {
        data: Checkpoint[];
      };
      const walk = new ChainWalk(new Set(checkpoints.map((checkpoint) => checkpoint.seq)));
      let cursor: string | null = null;
      let organizationId: string | undefined;
      do {
        const query = new URLSearchParams({ order: 'asc', limit: String(PAGE) });
        if (cursor) query.set('cursor', cursor);
        const page = (await context.call('GET', `/audit?${query}`)) as {
          data: AuditEvent[];
          nextCursor: string | null;
        };
        for (const event of page.data) {
          organizationId ??= event.organizationId;
          walk.add(event);
        }
        cursor = walk.broken ? null : page.nextCursor;
      } while (cursor);
      if (walk.broken) {
        const { seq, id, reason } = walk.broken;
        fail(`audit chain broken at event #${seq}${id ? ` (id ${id})` : ''}: ${reason}`);
      }
      const jwks = createLocalJWKSet(
        await keysFrom(flags.jwks ?? `${await serverFor(options().server)}/.well-known/jwks.json`),
      );
      for (const checkpoint of checkpoints) {
        const at = `checkpoint at event #${checkpoint.seq}`;
        let claims: { organization_id?: unknown; seq?: unknown; hash?: unknown };
        try {
          const verified = await compactVerify(checkpoint.jws, jwks, { algorithms: ['ES256'] });
          if (verified.protectedHeader.typ !== CHECKPOINT_TYPE)
            throw new Error(`typ ${verified.protectedHeader.typ}`);
          claims = JSON.parse(new TextDecoder().decode(verified.payload));
        } catch (error) {
          fail(`audit chain broken: ${at} has no valid signature (${(error as Error).message})`);
        }
        if (
          claims.seq !== checkpoint.seq ||
          claims.hash !== checkpoint.hash ||
          claims.organization_id !== organizationId
        ) {
          fail(`audit chain broken: ${at} does not say what it signed`);
        }
        if (checkpoint.seq > walk.lastSeq) {
          fail(`audit chain broken: ${at} was signed, but the log ends at event #${walk.lastSeq}`);
        }
        if (walk.hashAt(checkpoint.seq) !== checkpoint.hash) {
          fail(`audit chain broken at event #${checkpoint.seq}: hash does not match its signed checkpoint`);
        }
      }
      const last = checkpoints.at(-1);
      const events = walk.count === 1 ? '1 event' : `${walk.count} events`;
      out(`audit chain intact: ${events}, last checkpoint seq ${last?.seq ?? 'none'}`);
    });
}

async function keysFrom(url: string): Promise<JSONWebKeySet> {
  const answer = await callServer(url);
  const keys = answer.body as JSONWebKeySet | undefined;
  if (!answer.ok || !Array.isArray(keys?.keys)) {
    throw new CliError(`${url}: no JSON Web Key Set (HTTP ${answer.status})`, ExitCode.serverUnavailable);
  }
  return keys;
}

function fail(message: string): never {
  throw new CliError(message, ExitCode.failure);
}
