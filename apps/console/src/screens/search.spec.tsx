/**
 * @jest-environment jsdom
 */
import { fireEvent, screen, waitFor } from '@testing-library/react';
import { App } from '../App';
import { fakeServer, renderAs } from '../testing/render';
import { sidFromString } from '@metaweave/samr';

const ID = '0b3c2d1e-0000-4000-8000-000000000001';
const SID = 'S-1-5-21-1144201745-2289526357-3433806489-1001';
const at = '2026-11-23T10:00:00.000Z';
const person = {
  id: ID,
  objectType: 'person',
  version: 2,
  deleted: false,
  attributes: { displayName: ['Jane Smith'], sid: [{ b64: sidFromString(SID).toString('base64') }], ntAccount: ['CONTOSO\\jsmith'] },
  connectors: [
    { connector: 'exchange', anchor: 'guid-1', dn: 'cn=jsmith,cn=Recipients,ou=SiteA,o=Contoso', state: 'connected' },
    { connector: 'nt4-contoso', anchor: SID, dn: 'CONTOSO\\jsmith', state: 'connected' },
  ],
  lineage: [],
  rulesVersion: 'r1',
  reason: 'join',
  updatedAt: at,
};
const lineage = {
  displayName: [{ attribute: 'displayName', connector: 'exchange', anchor: 'guid-1', flow: 'exchange/mailbox/displayName', rulesVersion: 'r1', at }],
  sid: [{ attribute: 'sid', connector: 'exchange', anchor: 'guid-1', flow: 'exchange/mailbox/sid', rulesVersion: 'r1', at }],
  ntAccount: [{ attribute: 'ntAccount', connector: 'nt4-contoso', anchor: SID, flow: 'nt4-contoso/user/ntAccount', rulesVersion: 'r1', at }],
};

describe('metaverse search → object', () => {
  afterEach(() => (window.location.hash = ''));

  it('a search is a deep link: the filters go to the API and into the URL, results link to the object with its lineage', async () => {
    const server = fakeServer((c) => {
      if (c.url.startsWith('/projection/api/v1/objects?')) return { status: 200, body: { count: 1, offset: 0, limit: 25, nextOffset: null, objects: [person] } };
      if (c.url === `/projection/api/v1/objects/${ID}`) return { status: 200, body: { ...person, attributeLineage: lineage, history: [] } };
      return undefined;
    });
    window.location.hash = '#/search';
    renderAs(['browse'], <App />, server.fetchImpl);
    fireEvent.change(screen.getByLabelText('Value of attribute 1'), { target: { value: SID } });
    fireEvent.click(screen.getByRole('button', { name: 'Search' }));

    const link = await screen.findByRole('link', { name: 'Jane Smith' });
    const call = new URL(server.calls[0]!.url, 'http://x');
    expect(call.searchParams.get('type')).toBe('person');
    expect(call.searchParams.getAll('attr')).toEqual([`sid=${SID}`]);
    expect(decodeURIComponent(window.location.hash)).toBe(`#/search?type=person&attr=sid=${SID}&run=1`);
    expect(link.getAttribute('href')).toBe(`#/objects/${ID}`);

    window.location.hash = link.getAttribute('href')!;
    const row = await waitFor(() => {
      const r = document.getElementById('attr-ntAccount');
      if (!r) throw new Error('no ntAccount row yet');
      return r;
    });
    expect(row.textContent).toContain('CONTOSO\\jsmith');
    expect(row.textContent).toContain('nt4-contoso');
    expect(row.textContent).toContain('nt4-contoso/user/ntAccount');
    expect(document.getElementById('attr-sid')!.textContent).toContain(SID);
  });

  it('a refused search shows the server’s reason and its per-field errors', async () => {
    const server = fakeServer(() => ({
      status: 400,
      body: { type: 'about:blank', title: 'Bad Request', status: 400, detail: "'1bad' is not an attribute name", errors: ["'1bad' is not an attribute name"] },
    }));
    window.location.hash = '#/search?attr=1bad%3Dx&run=1';
    renderAs(['browse'], <App />, server.fetchImpl);
    expect(await screen.findByRole('alert')).toBeTruthy();
    expect(screen.getByRole('alert').textContent).toContain("'1bad' is not an attribute name");
    expect(screen.getByRole('alert').textContent).toContain('Request refused');
  });

  it('a token the API refuses (401) offers to log in again, which ends the session', async () => {
    const server = fakeServer(() => ({ status: 401, body: { type: 'about:blank', title: 'Unauthorized', status: 401, detail: 'the bearer token has expired' } }));
    window.location.hash = '#/search?type=person&run=1';
    renderAs(['browse'], <App />, server.fetchImpl);
    expect((await screen.findByRole('alert')).textContent).toContain('the bearer token has expired');
    fireEvent.click(screen.getByRole('button', { name: 'Log in again' }));
    expect(await screen.findByLabelText('Bearer token')).toBeTruthy();
  });
});
