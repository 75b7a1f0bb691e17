// Labels vs the model's classes on the Load screen: the blocking case is a flag, not a message.
import { describe, expect, it } from 'vitest';
import { checkLabels } from '../../workers/label-check';

describe('checkLabels', () => {
  it('flags labels beyond the output classes (the run cannot start)', () => {
    const c = checkLabels([0, 1, 10, 12], 10, undefined, 'y.npy: ');
    expect(c.labelsOutOfRange).toBe(true);
    expect(c.labelProblem).toContain('y.npy: labels 10, 12');
  });

  it('a class-folder count that differs from the outputs is a warning only', () => {
    const c = checkLabels([0, 1], 3, ['a', 'b'], 'images/: ');
    expect(c.labelsOutOfRange).toBe(false);
    expect(c.labelProblem).toContain('2 class folders');
  });

  it('nothing to say when the labels fit, or when the model does not tell its classes', () => {
    expect(checkLabels([0, 9], 10, undefined, '')).toEqual({ labelProblem: null, labelsOutOfRange: false });
    expect(checkLabels([0, 99], undefined, undefined, '')).toEqual({ labelProblem: null, labelsOutOfRange: false });
  });
});
