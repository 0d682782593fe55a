// `npm run user:create -- --email a@b.c --role admin|agent [--name "A B"] [--password-stdin]`
// Creates a web-inbox account. Without --password-stdin the password is asked
// for on a terminal (not echoed), or generated when stdin is not a terminal;
// a generated password is printed once.
import { parseArgs } from 'node:util';
import readline from 'node:readline';
import dotenv from 'dotenv';
import { ConfigError, loadConfig } from '../config.js';
import { createPrisma } from '../db/client.js';
import { startEmbeddedPostgres } from '../db/embedded.js';
import { migrate } from '../db/migrate.js';
import { createLogger } from '../logger.js';
import { HttpError } from '../http/errors.js';
import { createUser } from '../inbox/auth/users.js';
import { audit } from '../audit.js';

const USAGE = 'usage: npm run user:create -- --email EMAIL --role admin|agent [--name NAME] [--password-stdin]';

async function readHidden(prompt: string): Promise<string> {
  const rl = readline.createInterface({ input: process.stdin, output: process.stdout, terminal: true });
  const out = rl as unknown as { _writeToOutput: (s: string) => void; output: NodeJS.WriteStream };
  let prompted = false;
  out._writeToOutput = (s: string) => {
    if (!prompted) {
      process.stdout.write(s);
      prompted = true;
    }
  };
  const answer = await new Promise<string>((resolve) => rl.question(prompt, resolve));
  rl.close();
  process.stdout.write('\n');
  return answer;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

async function main(): Promise<number> {
  const options = {
    email: { type: 'string' },
    role: { type: 'string' },
    name: { type: 'string' },
    'password-stdin': { type: 'boolean' },
  } as const;
  let args: ReturnType<typeof parseArgs<{ options: typeof options }>>['values'];
  try {
    args = parseArgs({ options }).values;
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n${USAGE}\n`);
    return 2;
  }
  const role = args.role?.toUpperCase();
  if (!args.email || (role !== 'ADMIN' && role !== 'AGENT')) {
    process.stderr.write(`${!args.email ? '--email is required' : '--role must be admin or agent'}\n${USAGE}\n`);
    return 2;
  }
  let password: string | undefined;
  if (args['password-stdin']) password = await readStdin();
  else if (process.stdin.isTTY) {
    const typed = await readHidden('Password (leave empty to generate one): ');
    if (typed) {
      const again = await readHidden('Repeat password: ');
      if (again !== typed) {
        process.stderr.write('passwords do not match\n');
        return 1;
      }
      password = typed;
    }
  }

  const config = loadConfig();
  const log = createLogger(config.LOG_LEVEL === 'info' ? 'warn' : config.LOG_LEVEL);
  const embedded = config.DATABASE_URL
    ? null
    : await startEmbeddedPostgres({
        dataDir: config.DATA_DIR,
        port: config.EMBEDDED_PG_PORT,
        log,
        owner: 'npm run user:create',
        ifRunning: 'borrow',
      });
  const url = config.DATABASE_URL ?? embedded!.url;
  try {
    await migrate(url, log);
    const db = createPrisma(url);
    try {
      const r = await createUser(db, { email: args.email, name: args.name, role, password });
      await audit(
        db,
        { type: 'system' },
        {
          action: 'user.create',
          entityType: 'user',
          entityId: r.user.id,
          data: { email: r.user.email, role: r.user.role, via: 'cli' },
        },
      );
      process.stdout.write(`created ${r.user.role.toLowerCase()} ${r.user.email} (${r.user.id})\n`);
      if (r.generated) process.stdout.write(`password: ${r.password}\n(shown once — store it now)\n`);
      return 0;
    } catch (e) {
      if (e instanceof HttpError) {
        process.stderr.write(`${e.message}\n`);
        return 1;
      }
      throw e;
    } finally {
      await db.$disconnect();
    }
  } finally {
    await embedded?.stop();
  }
}

dotenv.config({ quiet: true });
try {
  process.exitCode = await main();
} catch (e) {
  process.stderr.write(`${e instanceof ConfigError ? e.message : `user:create failed: ${(e as Error).message}`}\n`);
  process.exitCode = 1;
}
