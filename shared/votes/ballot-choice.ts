/**
 * The recorded text of an open ballot's choice (issue 17, "choose up to m"): one option
 * id, as always, or for a ballot that chose several the ids in the election's option
 * order joined by {@link CHOICE_SEPARATOR}. Option ids are `[A-Za-z0-9_-]`, so the
 * separator cannot occur inside one, and one set of choices has exactly one text: the
 * idempotency binding, the receipt and the audit entry all commit to it, and a single
 * choice stays byte-identical to a ballot from before multi-choice. Pure (no Node
 * module): the browser's audit verifier recounts with it too.
 */

/** Between the option ids of a multi-choice ballot's recorded text. */
export const CHOICE_SEPARATOR = ',';

/** The option ids a recorded open ballot chose (its text split at the separator). */
export function choiceIds(recorded: string): string[] {
  return recorded.split(CHOICE_SEPARATOR);
}
