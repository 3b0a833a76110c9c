/**
 * @jest-environment jsdom
 */
import { fireEvent, screen, waitFor } from '@testing-library/react';
import { Operations } from './Operations';
import { Passwords } from './Passwords';
import { fakeServer, renderAs, type Call } from '../testing/render';

const isDisabled = (el: HTMLElement) => (el as HTMLButtonElement).disabled;

const RUN = {
  runId: '11111111-1111-4111-8111-111111111111',
  connector: 'exchange',
  partition: 'SiteA',
  step: 'delta-import',
  status: 'held',
  startedAt: '2026-11-23T10:00:00.000Z',
  endedAt: null,
  counters: { stageDelete: 40, heldDeletes: 40 },
  errorCount: 0,
  message: 'deletes beyond the threshold',
};

function api() {
  return fakeServer((c: Call) => {
    if (c.url.startsWith('/projection/api/v1/runs?')) return { status: 200, body: { count: 1, offset: 0, limit: 50, runs: [RUN] } };
    if (c.url === '/projection/api/v1/held-deletes') return { status: 200, body: { count: 1, heldDeletes: [{ ...RUN, id: RUN.runId, deletes: 40 }] } };
    return undefined;
  });
}

describe('role gating', () => {
  it('browse only: start run and approve are visible but disabled, naming the role they need', async () => {
    renderAs(['browse'], <Operations />, api().fetchImpl);
    const start = await screen.findByRole('button', { name: /Start run/ });
    const approve = await screen.findByRole('button', { name: /Approve/ });
    expect(isDisabled(start)).toBe(true);
    expect(start.textContent).toContain('needs the operators role');
    expect(isDisabled(approve)).toBe(true);
    expect(approve.textContent).toContain('needs the admins role');
  });

  it('operators: may start a run, may not approve held deletes', async () => {
    renderAs(['operators', 'browse'], <Operations />, api().fetchImpl);
    expect(isDisabled(await screen.findByRole('button', { name: 'Start run' }))).toBe(false);
    expect(isDisabled(await screen.findByRole('button', { name: /Approve/ }))).toBe(true);
  });

  it('admins: may do both', async () => {
    renderAs(['admins'], <Operations />, api().fetchImpl);
    expect(isDisabled(await screen.findByRole('button', { name: 'Start run' }))).toBe(false);
    expect(isDisabled(await screen.findByRole('button', { name: 'Approve' }))).toBe(false);
  });

  it('admins approve in two steps: nothing is sent before the confirmation, then one POST to the held run', async () => {
    const server = fakeServer((c: Call) => {
      if (c.method === 'POST' && c.url === `/projection/api/v1/held-deletes/${RUN.runId}/approve`) return { status: 200, body: { approved: true } };
      if (c.url.startsWith('/projection/api/v1/runs?')) return { status: 200, body: { count: 1, offset: 0, limit: 50, runs: [RUN] } };
      if (c.url === '/projection/api/v1/held-deletes') return { status: 200, body: { count: 1, heldDeletes: [{ ...RUN, id: RUN.runId, deletes: 40 }] } };
      return undefined;
    });
    renderAs(['admins'], <Operations />, server.fetchImpl);
    fireEvent.click(await screen.findByRole('button', { name: 'Approve' }));
    expect(server.calls.filter((c) => c.method === 'POST')).toEqual([]);
    fireEvent.click(screen.getByRole('button', { name: 'Yes, delete 40' }));
    expect(await screen.findByText(/Approved: the held deletes go ahead/)).toBeTruthy();
    expect(server.calls.filter((c) => c.method === 'POST').map((c) => c.url)).toEqual([`/projection/api/v1/held-deletes/${RUN.runId}/approve`]);
  });

  it('password set needs password-set: disabled for browse, enabled with the role', async () => {
    const { unmount } = renderAs(['browse'], <Passwords />, api().fetchImpl);
    expect(isDisabled(screen.getByRole('button', { name: /Set password/ }))).toBe(true);
    unmount();
    renderAs(['password-set'], <Passwords />, api().fetchImpl);
    await waitFor(() => expect(isDisabled(screen.getByRole('button', { name: 'Set password' }))).toBe(false));
  });
});
