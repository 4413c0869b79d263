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

/**
 * What is wrong with a set of chosen ids for a ballot of `options` that allows up to
 * `maxChoices`, as the reason code both the submit path (a 400 with this code) and the
 * validators (a rejection with this reason) give; null when it is a valid choice.
 */
export type ChoiceProblem = 'no_choice' | 'invalid_option' | 'duplicate_option' | 'too_many_choices';

export function choiceProblem(
  ids: readonly string[],
  options: readonly { id: string }[],
  maxChoices: number,
): { code: ChoiceProblem; optionId?: string } | null {
  if (ids.length === 0) return { code: 'no_choice' };
  const unknown = ids.find((id) => !options.some((o) => o.id === id));
  if (unknown !== undefined) return { code: 'invalid_option', optionId: unknown };
  const seen = new Set<string>();
  for (const id of ids) {
    if (seen.has(id)) return { code: 'duplicate_option', optionId: id };
    seen.add(id);
  }
  if (ids.length > maxChoices) return { code: 'too_many_choices' };
  return null;
}

/** The one recorded text of a valid set of choices: its ids in the ballot's option order. */
export function encodeChoice(ids: readonly string[], options: readonly { id: string }[]): string {
  const chosen = new Set(ids);
  return options
    .filter((o) => chosen.has(o.id))
    .map((o) => o.id)
    .join(CHOICE_SEPARATOR);
}

/**
 * A validator's verdict on a recorded choice: a {@link ChoiceProblem}, `malformed_choice`
 * for valid ids in another order than the ballot's (the submit path never records that,
 * and a second text for one set would dodge the idempotency binding), else null.
 */
export function judgeChoice(
  recorded: string,
  options: readonly { id: string }[],
  maxChoices: number,
): ChoiceProblem | 'malformed_choice' | null {
  const ids = choiceIds(recorded);
  const problem = choiceProblem(ids, options, maxChoices);
  if (problem) return problem.code;
  return encodeChoice(ids, options) === recorded ? null : 'malformed_choice';
}
