import { lazy, Suspense, useEffect, useMemo, useState } from 'react';
import { Provider, useQuery, useMutation } from 'urql';
import { graphql } from './gql';
import type { ViewerQuery } from './gql/graphql';
import { describe, makeClients, storeCredential, storedCredential, type Clients } from './api';
import { Link, navigate, ProblemView } from './ui';
import { ProjectPage, type Role } from './Project';

const Insights = lazy(() => import('./Insights'));

const ViewerDoc = graphql(`
  query Viewer {
    viewer {
      id
      subject
      name
      kind
      isAdmin
      memberships { role project { id } }
    }
  }
`);

export type Me = ViewerQuery['viewer'];

/** The role the viewer acts with in a project (admins may do everything). */
export function roleIn(me: Me, projectID: string): Role {
  if (me.isAdmin) return 'OWNER';
  return me.memberships.find((m) => m.project.id === projectID)?.role ?? null;
}

function usePath() {
  const [path, setPath] = useState(location.pathname);
  useEffect(() => {
    const on = () => setPath(location.pathname);
    addEventListener('popstate', on);
    return () => removeEventListener('popstate', on);
  }, []);
  return path;
}

export function App() {
  const [credential, setCredential] = useState(storedCredential());
  const clients = useMemo(() => makeClients(credential), [credential]);
  useEffect(() => () => void clients.ws.dispose(), [clients]);
  const signIn = (c: string | null) => {
    storeCredential(c);
    setCredential(c);
  };
  return (
    <Provider value={clients.client}>
      <Shell clients={clients} credential={credential} signIn={signIn} />
    </Provider>
  );
}

function Shell({ clients, credential, signIn }: { clients: Clients; credential: string | null; signIn: (c: string | null) => void }) {
  const [{ data, error, fetching }, refetchViewer] = useQuery({ query: ViewerDoc, requestPolicy: 'network-only' });
  const path = usePath();
  // A project created (or joined) since the viewer was read is not among its
  // memberships yet: read them again once for it.
  const projectInPath = path.match(/^\/app\/projects\/([^/]+)/)?.[1];
  const [rechecked, setRechecked] = useState<string | null>(null);
  useEffect(() => {
    const me = data?.viewer;
    if (!me || !projectInPath || me.isAdmin || rechecked === projectInPath) return;
    const id = decodeURIComponent(projectInPath);
    if (!me.memberships.some((m) => m.project.id === id)) {
      setRechecked(projectInPath);
      refetchViewer({ requestPolicy: 'network-only' });
    }
  }, [data, projectInPath, rechecked, refetchViewer]);
  const unauthenticated = error?.graphQLErrors.some((e) => e.extensions?.code === 'UNAUTHENTICATED');
  const me = data?.viewer;

  let body: React.ReactNode;
  if (fetching && !me) body = <p aria-live="polite">Loading…</p>;
  else if (!me) body = <SignIn problem={error && (credential || !unauthenticated) ? describe(error) : null} onSignIn={signIn} />;
  else {
    const m = path.match(/^\/app\/projects\/([^/]+)(\/insights)?\/?$/);
    if (m) {
      const id = decodeURIComponent(m[1]);
      body = m[2] ? (
        <Suspense fallback={<p>Loading charts…</p>}>
          <Insights projectID={id} />
        </Suspense>
      ) : (
        <ProjectPage clients={clients} projectID={id} role={roleIn(me, id)} />
      );
    } else body = <Projects />;
  }
  return (
    <>
      <header className="top">
        <Link to="/app/" className="brand">
          Feedback Loop
        </Link>
        {me && (
          <span className="who">
            {me.name || me.subject}
            {credential && (
              <button type="button" onClick={() => signIn(null)}>
                Sign out
              </button>
            )}
          </span>
        )}
      </header>
      <main id="main">{body}</main>
    </>
  );
}

function SignIn({ problem, onSignIn }: { problem: ReturnType<typeof describe> | null; onSignIn: (c: string) => void }) {
  const [value, setValue] = useState('');
  return (
    <form
      className="card signin"
      aria-labelledby="signin-title"
      onSubmit={(e) => {
        e.preventDefault();
        if (value.trim()) onSignIn(value.trim());
      }}
    >
      <h1 id="signin-title">Sign in</h1>
      <p>Paste an API key or a token (JWT) that this service accepts.</p>
      <label htmlFor="credential">API key or token</label>
      <input id="credential" name="credential" type="password" autoComplete="off" value={value} onChange={(e) => setValue(e.target.value)} required />
      <button type="submit">Sign in</button>
      <ProblemView problem={problem} />
    </form>
  );
}

const ProjectsDoc = graphql(`
  query Projects($after: Cursor) {
    projects(first: 20, after: $after, orderBy: { field: CREATED_AT, direction: DESC }) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges { node { id name description status } }
    }
  }
`);

const CreateProjectDoc = graphql(`
  mutation CreateProject($name: String!) {
    createProject(input: { name: $name }) { id name }
  }
`);

function Projects() {
  const [after, setAfter] = useState<string | null>(null);
  const [{ data, error }] = useQuery({ query: ProjectsDoc, variables: { after } });
  const [created, create] = useMutation(CreateProjectDoc);
  const [name, setName] = useState('');
  const page = data?.projects;
  return (
    <section aria-labelledby="projects-title">
      <h1 id="projects-title">Projects</h1>
      <ProblemView problem={error ? describe(error) : null} />
      {page && (
        <>
          <p>{page.totalCount === 1 ? '1 project' : `${page.totalCount} projects`}</p>
          <ul className="projects">
            {page.edges?.map((e) =>
              e?.node ? (
                <li key={e.node.id} className="card">
                  <Link to={`/app/projects/${encodeURIComponent(e.node.id)}`}>{e.node.name}</Link>
                  {e.node.description && <p>{e.node.description}</p>}
                </li>
              ) : null,
            )}
          </ul>
          <nav aria-label="Project pages" className="pager">
            {after && (
              <button type="button" onClick={() => setAfter(null)}>
                First page
              </button>
            )}
            {page.pageInfo.hasNextPage && (
              <button type="button" onClick={() => setAfter(page.pageInfo.endCursor ?? null)}>
                Next page
              </button>
            )}
          </nav>
        </>
      )}
      <form
          className="card inline"
          onSubmit={async (e) => {
            e.preventDefault();
            const r = await create({ name });
            if (r.data) {
              setName('');
              navigate(`/app/projects/${encodeURIComponent(r.data.createProject.id)}`);
            }
          }}
        >
          <label htmlFor="project-name">New project's name</label>
          <input id="project-name" value={name} onChange={(e) => setName(e.target.value)} required maxLength={255} />
          <button type="submit" disabled={created.fetching}>
            Create project
          </button>
          <ProblemView problem={created.error ? describe(created.error) : null} />
        </form>
    </section>
  );
}
