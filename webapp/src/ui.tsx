import type { Problem } from './api';

/** An API error in words, with the request ID to quote to support. */
export function ProblemView({ problem }: { problem?: Problem | null }) {
  if (!problem) return null;
  return (
    <div role="alert" className="problem">
      <p>{problem.message}</p>
      {problem.requestId && (
        <p className="request-id">
          Request ID: <code>{problem.requestId}</code>
        </p>
      )}
    </div>
  );
}

export function navigate(path: string) {
  history.pushState(null, '', path);
  dispatchEvent(new PopStateEvent('popstate'));
}

/** A link within the app: no page reload. */
export function Link({ to, children, className }: { to: string; children: React.ReactNode; className?: string }) {
  return (
    <a
      href={to}
      className={className}
      onClick={(e) => {
        if (e.metaKey || e.ctrlKey || e.shiftKey || e.button !== 0) return;
        e.preventDefault();
        navigate(to);
      }}
    >
      {children}
    </a>
  );
}

export const label = (s: string) => s.charAt(0) + s.slice(1).toLowerCase().replace(/_/g, ' ');
