import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';

/**
 * A button whose action cannot be undone (cancel a job, delete it): a first press asks the
 * question beside it, and only its confirm button acts. Focus goes to the choice that keeps
 * things as they are, so a second Enter does no harm; Escape keeps them too.
 */
export function ConfirmButton({ label, text, className, question, confirm, keep, disabled = false, onConfirm, children }: {
  /** What the button and its question are called (the accessible name: "Cancel job", "Cancel a.pdf"). */
  label: string;
  /** The button's words when shorter than its label (a row's "Cancel"); default: the label. */
  text?: string;
  className?: string;
  question: string;
  /** The confirm button's words, saying what it does ("Yes, cancel the job"). */
  confirm: string;
  /** The other button's words ("No, let it run"). */
  keep: string;
  disabled?: boolean;
  onConfirm: () => void | Promise<void>;
  children?: ComponentChildren;
}) {
  const [asking, setAsking] = useState(false);
  const keepRef = useRef<HTMLButtonElement>(null);
  const openRef = useRef<HTMLButtonElement>(null);
  const close = (): void => {
    setAsking(false);
    // Back on the button that asked, once it is rendered again.
    setTimeout(() => openRef.current?.focus(), 0);
  };
  // While it asks: focus on the choice that keeps things, and Escape (wherever focus is) keeps them.
  useEffect(() => {
    if (!asking) return;
    keepRef.current?.focus();
    const onKey = (event: KeyboardEvent): void => {
      if (event.key === 'Escape') close();
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, [asking]);
  if (!asking || disabled) {
    return (
      <button type="button" ref={openRef} class={className} aria-label={text === undefined ? undefined : label} disabled={disabled} onClick={() => setAsking(true)}>
        {text ?? label}
      </button>
    );
  }
  return (
    <div class="confirm" role="group" aria-label={label}>
      <span class="confirm-question">{question}</span>
      {children}
      <button
        type="button"
        class="danger"
        onClick={() => {
          setAsking(false);
          void onConfirm();
        }}
      >
        {confirm}
      </button>
      <button type="button" ref={keepRef} onClick={close}>
        {keep}
      </button>
    </div>
  );
}
