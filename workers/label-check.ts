// Do the dataset's labels fit the model? Shown on the Load screen (DataCard) and, when they do
// not, the run cannot start (AppState.ready reads `labelsOutOfRange`, never the message text).

export interface LabelCheck {
  /** null when the labels fit the model's output; otherwise why not (shown to people). */
  labelProblem: string | null;
  /** Some labels are ≥ the model's number of output classes: a run would fail, so it cannot start.
   *  (A class-folder count that differs from the model's outputs is only a warning.) */
  labelsOutOfRange: boolean;
}

/**
 * `labels`: the distinct labels of the dataset (−1, unlabelled, excluded); `classes`: the model's
 * output classes, when known; `classNames`: the class folders of an image dataset; `where`: a
 * prefix naming the labels' file or folder in the message.
 */
export function checkLabels(labels: readonly number[], classes: number | undefined, classNames: readonly string[] | undefined, where: string): LabelCheck {
  if (classes === undefined) return { labelProblem: null, labelsOutOfRange: false };
  const bad = labels.filter((l) => l >= classes);
  if (bad.length) {
    return {
      labelProblem: `${where}labels ${bad.slice(0, 5).join(', ')}${bad.length > 5 ? ' …' : ''} do not fit the model's ${classes} output classes (expected labels 0…${classes - 1})`,
      labelsOutOfRange: true,
    };
  }
  if (classNames && classNames.length !== classes) {
    return {
      labelProblem: `${classNames.length} class folders but the model has ${classes} outputs: check that folder order matches the model's classes`,
      labelsOutOfRange: false,
    };
  }
  return { labelProblem: null, labelsOutOfRange: false };
}
