// The explorer page's own script (runs in the browser, after GraphiQL's bundle): the persona bar,
// field notes in the docs, the cost of each run, and the repair of stale stored tabs. Plain DOM,
// no framework, no request to any host but the page's endpoint. gateway/explorer/explorer-page.ts
// embeds it; its configuration is the JSON island #explorer-config.
(function explorer() {
  'use strict';
  const config = JSON.parse(document.getElementById('explorer-config').textContent);
  const endpoint = new URL(config.endpoint, location.href);
  const bar = document.getElementById('explorer-bar');

  // ---- Storage: GraphiQL's keys, namespaced per endpoint (two explorers on one origin keep their own tabs).
  const namespace = endpoint.pathname === '/graphql' ? '' : `${endpoint.pathname}|`;
  const storage = {
    getItem: (key) => localStorage.getItem(namespace + key),
    setItem: (key, value) => localStorage.setItem(namespace + key, value),
    removeItem: (key) => localStorage.removeItem(namespace + key),
    get length() {
      return Object.keys(localStorage).filter((k) => k.startsWith(`${namespace}graphiql:`)).length;
    },
    clear() {
      for (const k of Object.keys(localStorage)) if (k.startsWith(`${namespace}graphiql:`)) localStorage.removeItem(k);
    },
  };
  const ownKey = (name) => `${namespace}data-mesh-explorer:${name}`;

  /** A query with nothing to run (empty, blanks, comments only) only yields "Unexpected <EOF>". */
  const runnable = (query) => typeof query === 'string' && query.split('\n').some((line) => line.trim() !== '' && !line.trim().startsWith('#'));

  /**
   * What GraphiQL left in storage, repaired before it reads it: tabs with nothing to run are
   * dropped, and headers are never kept (the persona sets them; a stored token may have expired).
   * GraphiQL opens `initial` (the active stored tab, else the example), so a returning browser
   * never lands on an empty tab; with no usable tab left, it starts from the example.
   */
  function repairStoredTabs() {
    let state = null;
    try {
      state = JSON.parse(storage.getItem('graphiql:tabState') ?? 'null');
    } catch {
      state = null;
    }
    const str = (v) => (typeof v === 'string' ? v : null);
    const tabs = state && Array.isArray(state.tabs) ? state.tabs : [];
    const kept = tabs
      .filter((t) => t && typeof t === 'object' && typeof t.id === 'string' && runnable(t.query))
      .map((t) => ({ id: t.id, hash: null, title: str(t.title) ?? '<untitled>', query: t.query, variables: str(t.variables), headers: null, operationName: str(t.operationName), response: null }));
    for (const key of ['graphiql:query', 'graphiql:variables', 'graphiql:headers']) storage.removeItem(key);
    if (kept.length === 0) {
      storage.removeItem('graphiql:tabState');
      return { query: config.exampleQuery, variables: '' };
    }
    const active = tabs[state.activeTabIndex];
    const activeTabIndex = Math.max(0, kept.findIndex((t) => t.id === active?.id));
    storage.setItem('graphiql:tabState', JSON.stringify({ tabs: kept, activeTabIndex }));
    return { query: kept[activeTabIndex].query, variables: kept[activeTabIndex].variables ?? '' };
  }

  // ---- Personas (development only: the gateway sends none in production).
  const personas = config.personas ?? [];
  let persona = null;
  function choosePersona(id) {
    persona = personas.find((p) => p.id === id) ?? personas.find((p) => p.id === config.defaultPersona) ?? null;
    if (persona) localStorage.setItem(ownKey('persona'), persona.id);
    renderPersona();
  }

  /** Headers the Headers tab set itself on the last request: those win over the persona's. */
  let overridden = [];

  // ---- The endpoint's requests: persona headers in, cost and docs notes out.
  const originalFetch = window.fetch.bind(window);
  const isEndpoint = (input) => {
    try {
      const url = new URL(typeof input === 'string' || input instanceof URL ? String(input) : input.url, location.href);
      return url.origin === endpoint.origin && url.pathname === endpoint.pathname;
    } catch {
      return false;
    }
  };
  const operationOf = (body) => {
    try {
      return typeof body === 'string' ? (JSON.parse(body).operationName ?? null) : null;
    } catch {
      return null;
    }
  };

  window.fetch = async function explorerFetch(input, init) {
    if (!isEndpoint(input)) return originalFetch(input, init);
    const headers = new Headers(init?.headers ?? (input instanceof Request ? input.headers : undefined));
    const own = [];
    for (const [name, value] of Object.entries(persona?.headers ?? {})) {
      if (headers.has(name)) own.push(name);
      else headers.set(name, value);
    }
    // Ask for extensions.cost (demand control's estimate and actual cost) on every run.
    headers.set('x-cost-extensions', 'true');
    const operation = operationOf(init?.body);
    const introspection = operation === 'IntrospectionQuery';
    if (!introspection) {
      overridden = own;
      renderOverrides();
      showCost({ pending: true });
    }
    let response;
    try {
      response = await originalFetch(input, { ...init, headers });
    } catch (error) {
      if (!introspection) showCost({ ran: true });
      throw error;
    }
    if (introspection) return withFieldNotes(response);
    readCost(response.clone());
    return response;
  };

  // ---- Cost: extensions.cost = {estimated, actual, max, mode} (or the refusal's error extensions).
  async function readCost(response) {
    try {
      if (!/json/.test(response.headers.get('content-type') ?? '')) return showCost({ ran: true });
      const body = await response.json();
      const refused = (body.errors ?? []).find((e) => e?.extensions?.code === 'COST_ESTIMATED_TOO_EXPENSIVE');
      if (refused) return showCost({ refused: refused.extensions.cost ?? { estimated: refused.extensions['cost.estimated'], max: refused.extensions['cost.max'] } });
      showCost({ cost: body.extensions?.cost, ran: true });
    } catch {
      showCost({ ran: true });
    }
  }

  const number = (n) => (typeof n === 'number' ? n.toLocaleString('en') : '?');
  function showCost({ cost, refused, pending, ran }) {
    const element = document.getElementById('explorer-cost');
    if (!element) return;
    const dc = config.demandControl;
    element.dataset.state = refused ? 'refused' : cost ? 'measured' : pending ? 'pending' : 'none';
    if (!dc || !dc.enabled) element.textContent = 'Cost: demand control is off';
    else if (refused) element.textContent = `Estimated cost ${number(refused.estimated)} exceeds the maximum ${number(refused.max)}: refused before any subgraph was asked`;
    else if (cost) element.textContent = `Estimated cost ${number(cost.estimated)} · actual ${number(cost.actual)} · max ${number(cost.max)} (${cost.mode})`;
    else if (pending) element.textContent = 'Estimating cost…';
    else if (ran) element.textContent = 'Estimated cost: none in this response (refused before the estimate, e.g. a bad token or an invalid query)';
    else element.textContent = `Estimated cost: run a query (max ${number(dc.max)}, ${dc.mode})`;
  }

  // ---- Docs notes: each field's classification, what it needs and its data product, from the catalog.
  const NOTES_QUERY = `query ExplorerFieldNotes { dataProducts { id name fields { coordinate classification pii authorization { summary } purposes mask { kind } } } }`;
  async function fieldNotes() {
    const notes = new Map();
    try {
      const response = await originalFetch(endpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify({ query: NOTES_QUERY, operationName: 'ExplorerFieldNotes' }),
      });
      const products = (await response.json())?.data?.dataProducts ?? [];
      for (const product of products) {
        for (const f of product.fields ?? []) {
          // The badge joins the description's first paragraph: GraphiQL's field lists show only that one.
          const badge = [
            f.classification ? `**Classification:** ${f.classification}${f.pii ? ' (personal data)' : ''}` : null,
            `**Needs:** ${f.authorization?.summary ?? 'public'}`,
          ].filter(Boolean);
          const details = [`**Data product:** ${product.name} (\`${product.id}\`)${f.purposes ? `; purposes: ${f.purposes.join(', ')}` : ''}`];
          if (f.mask) details.push(`**Masked view:** ${f.mask.kind}, for callers the masking rules allow only that`);
          notes.set(f.coordinate, { badge: badge.join(' · '), details: details.join('\n\n') });
        }
      }
    } catch {
      // No catalog on this endpoint (or it failed): the docs show the schema's own descriptions.
    }
    return notes;
  }

  async function withFieldNotes(response) {
    if (!response.ok || !/json/.test(response.headers.get('content-type') ?? '')) return response;
    const [result, notes] = await Promise.all([response.clone().json().catch(() => null), fieldNotes()]);
    const types = result?.data?.__schema?.types;
    if (!Array.isArray(types) || notes.size === 0) return response;
    for (const type of types) {
      for (const field of type.fields ?? []) {
        const note = notes.get(`${type.name}.${field.name}`);
        if (!note) continue;
        const [first, ...rest] = (field.description ?? '').split(/\n\s*\n/);
        // Two trailing spaces: a markdown line break inside the first paragraph.
        field.description = [first ? `${first}  \n${note.badge}` : note.badge, ...rest, note.details].join('\n\n');
      }
    }
    return new Response(JSON.stringify(result), { status: response.status, headers: { 'content-type': response.headers.get('content-type') } });
  }

  // ---- The bar.
  const el = (tag, attributes = {}, ...children) => {
    const element = document.createElement(tag);
    for (const [k, v] of Object.entries(attributes)) element.setAttribute(k, v);
    element.append(...children.filter((c) => c !== null && c !== undefined));
    return element;
  };

  function renderBar() {
    bar.replaceChildren();
    bar.append(el('strong', { class: 'explorer-title' }, config.title));
    if (personas.length) {
      const select = el('select', { id: 'persona-select', 'aria-label': 'Persona' }, ...personas.map((p) => el('option', { value: p.id }, p.label)));
      select.addEventListener('change', () => choosePersona(select.value));
      bar.append(el('label', { class: 'persona-label' }, 'Persona (development) ', select));
      bar.append(el('span', { id: 'persona-summary' }));
      const details = el('details', { id: 'persona-details' }, el('summary', {}, 'What it grants'), el('div', { id: 'persona-grants' }));
      bar.append(details);
    } else {
      bar.append(el('span', { id: 'persona-summary' }, 'Send your token in the Headers tab: {"Authorization": "Bearer <token>"}'));
    }
    bar.append(el('span', { id: 'persona-overrides', hidden: '' }));
    bar.append(el('span', { id: 'explorer-cost', role: 'status' }));
    showCost({});
  }

  function renderPersona() {
    if (!persona) return;
    document.getElementById('persona-select').value = persona.id;
    const claims = Object.entries(persona.claims).map(([k, v]) => `${k}=${v}`);
    const summary = [
      persona.headers.Authorization ? `scopes: ${persona.scopes.join(' ') || 'none'}` : 'no token',
      claims.length ? `claims: ${claims.join(', ')}` : null,
      persona.purposeHeader ? `X-Data-Purpose: ${persona.purposeHeader}` : `purpose: ${persona.purpose || 'none'} (default)`,
    ].filter(Boolean);
    const summaryElement = document.getElementById('persona-summary');
    summaryElement.textContent = summary.join(' · ');
    summaryElement.title = persona.description;
    const g = persona.grants;
    const token = persona.headers.Authorization;
    const list = (items, empty) => (items.length ? el('ul', {}, ...items.map((i) => el('li', {}, i))) : el('p', {}, empty));
    document.getElementById('persona-grants').replaceChildren(
      el('p', {}, persona.description),
      el('h4', {}, 'Headers sent'),
      list(
        Object.entries(persona.headers).map(([k, v]) => `${k}: ${k === 'Authorization' ? `${v.slice(0, 24)}… (signed by the development secret, expires ${persona.expiresAt})` : v}`),
        'None: requests are anonymous.',
      ),
      el('h4', {}, 'Policies satisfied'),
      list(g.policies, 'None.'),
      el('h4', {}, 'Row-level rules'),
      list(g.rows, 'None: every row of what it may read.'),
      el('h4', {}, `Protected fields: reads ${g.readable} of ${g.readable + g.denied.length}; not these`),
      list(g.denied, 'None.'),
      token ? el('button', { type: 'button', id: 'persona-copy' }, 'Copy token') : null,
    );
    document.getElementById('persona-copy')?.addEventListener('click', () => navigator.clipboard?.writeText(token.slice('Bearer '.length)));
    document.body.dataset.persona = persona.id;
  }

  function renderOverrides() {
    const element = document.getElementById('persona-overrides');
    if (!element) return;
    element.hidden = overridden.length === 0 || !persona;
    element.textContent = overridden.length ? `The Headers tab sets ${overridden.join(', ')}: the persona's is not sent` : '';
  }

  renderBar();
  choosePersona(localStorage.getItem(ownKey('persona')));

  // ---- GraphiQL itself.
  const initial = repairStoredTabs();
  YogaGraphiQL.renderYogaGraphiQL(document.getElementById('root'), {
    endpoint: endpoint.href,
    title: config.title,
    defaultQuery: config.exampleQuery,
    query: initial.query,
    variables: initial.variables,
    storage,
    // The persona sets Authorization and X-Data-Purpose; tokens typed in the Headers tab stay out of storage.
    shouldPersistHeaders: false,
    // Yoga writes each edit into the page URL (?query=…); a reload of that URL is a GraphQL GET, not this page.
    onEditQuery: () => {},
  });
})();
