import type { Option } from '../api';

/**
 * The choices of a "choose up to m" ballot: checkboxes, with the rule said before the
 * first box and a clear, announced message when too many are checked (the boxes stay
 * enabled, so nobody is stuck without knowing why a box will not check).
 */
export function ApprovalChoices({
  options,
  maxChoices,
  value,
  onChange,
}: {
  options: readonly Option[];
  maxChoices: number;
  value: readonly string[];
  onChange: (ids: string[]) => void;
}) {
  const over = value.length > maxChoices;
  return (
    <fieldset aria-describedby="approval-rule">
      <legend>Choose up to {maxChoices} options</legend>
      <p id="approval-rule" className="muted">
        You may choose between 1 and {maxChoices} of the {options.length} options. Chosen: {value.length}.
      </p>
      {options.map((o) => (
        <label key={o.id} className="choice">
          <input
            type="checkbox"
            name="options"
            value={o.id}
            checked={value.includes(o.id)}
            onChange={(e) =>
              onChange(
                e.target.checked
                  ? options.filter((x) => x.id === o.id || value.includes(x.id)).map((x) => x.id)
                  : value.filter((id) => id !== o.id),
              )
            }
          />
          {o.label}
        </label>
      ))}
      {over && (
        <p className="error" role="alert" data-testid="too-many-choices">
          You chose {value.length} options, but this ballot allows at most {maxChoices}. Uncheck{' '}
          {value.length - maxChoices} to continue.
        </p>
      )}
    </fieldset>
  );
}

/** Whether a set of choices can be sent: at least one, at most `maxChoices`. */
export function choicesValid(value: readonly string[], maxChoices: number): boolean {
  return value.length >= 1 && value.length <= maxChoices;
}
