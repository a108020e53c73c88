// Load (9 m): ramp to normal traffic, hold it, ramp down.
import { options as build, ramping, step, summary } from './lib/scenario.js';

export const options = build(
  'load',
  ramping(1, [
    [120, 50],
    [300, 50],
    [120, 0],
  ]),
);
export default step;
export const handleSummary = summary;
