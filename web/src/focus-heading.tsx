import { type ReactNode, useEffect, useRef } from 'react';

/**
 * A heading that takes the keyboard focus when it appears. The app swaps whole screens
 * without a page load (election list → ballot → confirmation → receipt): without this
 * the focus stays on a button that no longer exists, keyboard users restart from the
 * top of the page and screen readers announce nothing. Focusing the new screen's
 * heading reads its title and puts the next Tab on its first control.
 */
export function FocusHeading({ level, id, children }: { level: 2 | 3; id: string; children: ReactNode }) {
  const ref = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    ref.current?.focus();
  }, []);
  return level === 2 ? (
    <h2 ref={ref} id={id} tabIndex={-1}>
      {children}
    </h2>
  ) : (
    <h3 ref={ref} id={id} tabIndex={-1}>
      {children}
    </h3>
  );
}
