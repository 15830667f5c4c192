/**
 * Multi-step prompts with a Back button: each step reads and writes a shared answers object, so
 * going back shows the earlier answer and going forward again keeps the later ones.
 */
import type { Services } from '../services';
import { BACK, type StepInputBoxOptions, type StepPosition } from '../ui';
import type { Picked } from './pickers';

export type StepResult = 'next' | 'back' | 'cancel';
/** A step prompt's outcome: the answer, the Back button, or undefined when dismissed. */
export type Answer<T> = { readonly value: T } | 'back' | undefined;

export interface WizardStep<S> {
  /** False when the answers so far make the step pointless (e.g. certificate trust for ws://). */
  readonly applies?: (answers: S) => boolean;
  readonly run: (answers: S, at: StepPosition) => Promise<StepResult>;
}

/** Runs the steps in order (Back returns to the previous one shown); false when the user cancelled. */
export async function runWizard<S>(answers: S, steps: readonly WizardStep<S>[]): Promise<boolean> {
  const shown: number[] = [];
  let i = 0;
  while (i < steps.length) {
    const applicable = steps.filter((st) => st.applies?.(answers) ?? true);
    const step = steps[i]!;
    if (!applicable.includes(step)) {
      i++;
      continue;
    }
    const result = await step.run(answers, { step: applicable.indexOf(step) + 1, totalSteps: applicable.length });
    if (result === 'cancel') return false;
    if (result === 'back') {
      const previous = shown.pop();
      if (previous === undefined) return false;
      i = previous;
      continue;
    }
    shown.push(i);
    i++;
  }
  return true;
}

/** One quick pick step: the chosen value, BACK, or undefined (dismissed). */
export async function pickStep<T>(
  s: Services,
  at: StepPosition,
  title: string,
  items: Picked<T>[],
  options: { placeHolder?: string; previous?: T | undefined; itemForValue?: (value: string) => Picked<T> | undefined } = {},
): Promise<Answer<T>> {
  const active = options.previous === undefined ? undefined : items.find((i) => i.value === options.previous);
  const chosen = await s.ctx.ui.showStepQuickPick(items, {
    title,
    ...at,
    ...(options.placeHolder !== undefined ? { placeHolder: options.placeHolder } : {}),
    ...(active ? { active } : {}),
    ...(options.itemForValue ? { itemForValue: options.itemForValue } : {}),
  });
  if (chosen === undefined) return undefined;
  if (chosen === BACK) return 'back';
  return { value: (chosen as Picked<T>).value };
}

export async function inputStep(s: Services, at: StepPosition, options: Omit<StepInputBoxOptions, keyof StepPosition>): Promise<Answer<string>> {
  const v = await s.ctx.ui.showStepInputBox({ ...options, ...at });
  if (v === undefined) return undefined;
  if (v === BACK) return 'back';
  return { value: v as string };
}

/** Stores a step's answer and says where the wizard goes next. */
export function answered<T>(result: Answer<T>, store: (value: T) => void): StepResult {
  if (result === undefined) return 'cancel';
  if (result === 'back') return 'back';
  store(result.value);
  return 'next';
}
