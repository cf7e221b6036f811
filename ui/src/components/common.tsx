import type { ComponentChildren } from 'preact';

/** A failure shown to the user; empty renders nothing, but the live region stays in place. */
export function ErrorText({ message, id }: { message: string; id?: string }) {
  return (
    <p class="error" role="alert" id={id}>
      {message}
    </p>
  );
}

export function Status({ status }: { status: string }) {
  return <span class={`status ${status}`}>{status.replace('_', ' ')}</span>;
}

/** A labelled progress bar of a fixed size, so streaming updates never shift the layout. */
export function Bar({ label, value, max = 100, children }: { label: string; value: number; max?: number; children?: ComponentChildren }) {
  return (
    <div class="bar">
      <progress value={value} max={max} aria-label={label} />
      <span class="bar-text">{children}</span>
    </div>
  );
}

export function Page({ title, children, actions }: { title: string; children: ComponentChildren; actions?: ComponentChildren }) {
  return (
    <section aria-labelledby="page-title" class="page">
      <div class="page-head">
        <h1 id="page-title" tabIndex={-1}>
          {title}
        </h1>
        {actions}
      </div>
      {children}
    </section>
  );
}
