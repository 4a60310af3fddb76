import { Command, InvalidArgumentError } from 'commander';
import { newToken, tokenSha256 } from '../auth/token.js';
import { ACTIONS, type Action } from '../config/security-schema.js';

interface TokenOptions {
  name: string;
  /** Required: a client that may use every id is a choice to write out (`--ids '*'`), never a default. */
  ids?: string[];
  actions: Action[];
  stdin?: boolean;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/**
 * `rkms token`: a new bearer token (256 random bits) and the `[[auth.clients]]` entry that
 * lets it in. The token is printed once and never stored: the config holds its SHA-256.
 */
export function tokenCommand(): Command {
  return new Command('token')
    .description('print a new bearer token and the [[auth.clients]] entry for config.toml')
    .option('--name <name>', 'the client, as audit lines and logs name it', parseName, 'app')
    .option(
      '--ids <patterns>',
      "required: comma-separated id patterns the client may use (* any text, ? one character; '*' for every id)",
      parseList,
    )
    .option('--actions <list>', `comma-separated actions among ${ACTIONS.join(', ')}`, parseActions, [
      'get',
      'create',
    ])
    .option('--stdin', 'hash a token read from stdin (one from a secret manager) instead of making one')
    .addHelpText(
      'after',
      '\nGive the token to the client (Authorization: Bearer <token>); put the entry in config.toml and restart RKMS.',
    )
    .action(async function (this: Command, options: TokenOptions) {
      const { ids } = options;
      if (ids === undefined) {
        this.error(
          "rkms token: --ids is required: the id patterns this client may use, e.g. --ids 'billing/*,shared-report' (--ids '*' lets it use every id)",
          { exitCode: 2, code: 'rkms.token.ids' },
        );
      }
      const token = options.stdin ? await tokenFromStdin() : newToken();
      const lines = [
        ...(options.stdin
          ? []
          : [
              `# The token of client "${options.name}": give it to the client, it is not shown again.`,
              token,
              '',
            ]),
        '# Add to config.toml (it holds only the SHA-256 of the token):',
        '[[auth.clients]]',
        `name = ${JSON.stringify(options.name)}`,
        `token_sha256 = "${tokenSha256(token)}"`,
        `ids = [${ids.map((id) => JSON.stringify(id)).join(', ')}]`,
        `actions = [${options.actions.map((action) => JSON.stringify(action)).join(', ')}]`,
        '',
      ];
      process.stdout.write(lines.join('\n'));
    });
}

async function tokenFromStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  const token = Buffer.concat(chunks).toString('utf8').trim();
  if (!/^[A-Za-z0-9._~+/=-]{16,}$/.test(token)) {
    process.stderr.write(
      'rkms token: stdin holds no usable token (at least 16 characters of A-Z a-z 0-9 . _ ~ + / = -)\n',
    );
    process.exit(2);
  }
  return token;
}

function parseName(value: string): string {
  if (!NAME.test(value)) throw new InvalidArgumentError('letters, digits, ".", "_" and "-", at most 64.');
  return value;
}

function parseList(value: string): string[] {
  const items = value
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);
  if (items.length === 0) throw new InvalidArgumentError('give at least one.');
  return items;
}

function parseActions(value: string): Action[] {
  const actions = parseList(value);
  const unknown = actions.filter((action) => !(ACTIONS as readonly string[]).includes(action));
  if (unknown.length > 0)
    throw new InvalidArgumentError(`unknown ${unknown.join(', ')}; use ${ACTIONS.join(', ')}.`);
  return [...new Set(actions)] as Action[];
}
