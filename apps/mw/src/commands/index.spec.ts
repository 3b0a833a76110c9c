import { Command } from 'commander';
import { registerCommandModules } from './index';

describe('mw command groups', () => {
  it('all register on one program without a name clash', () => {
    const program = new Command('mw');
    // main.ts's own commands, as registered before the groups.
    for (const name of ['stack', 'service', 'run', 'schema', 'demo']) program.command(name);
    expect(() => registerCommandModules(program)).not.toThrow();
    const names = program.commands.map((c) => c.name());
    expect(new Set(names).size).toBe(names.length);
    expect(names).toEqual(expect.arrayContaining(['approve', 'preview', 'mv', 'nt4', 'password', 'projection', 'runs', 'token', 'exchange', 'connector']));
  });
});
