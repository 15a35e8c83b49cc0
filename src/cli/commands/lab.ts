import { check } from '../../core/util/errors.js';
import { serveLab } from '../../node/lab-server.js';
import type { Command } from '../command.js';

export const labCommand: Command = {
  path: ['lab'],
  summary: 'serve the browser lab (noisy quadratic, lock-step digits, CLI results) on 127.0.0.1, cross-origin isolated',
  usage: 'momentum-lab lab [--port N]',
  positionals: 0,
  flags: {
    port: { kind: 'int', default: 8731, help: 'port on 127.0.0.1 (0: any free port)' },
  },
  async run(flags) {
    const port = flags.port as number;
    check(port >= 0 && port <= 65535, '--port', `must be in 0…65535, got ${port}`);
    const { server, url } = await serveLab({ port });
    process.stdout.write(`momentum-lab lab: ${url} (Ctrl-C to stop)\n`);
    await new Promise<void>((done) => {
      const stop = (): void => { server.close(); done(); };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
  },
};
