// Soak (30 m): a sustained normal rate, to surface leaks and slow degradation.
import { options as build, ramping, step, summary } from './lib/scenario.js';

export const options = build(
  'soak',
  ramping(1, [
    [120, 40],
    [1560, 40],
    [120, 0],
  ]),
);
export default step;
export const handleSummary = summary;
