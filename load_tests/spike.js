// Spike (2 m): a quiet baseline, a sudden jump to four times normal traffic, recovery.
import { options as build, ramping, step, summary } from './lib/scenario.js';

export const options = build(
  'spike',
  ramping(10, [
    [20, 10],
    [10, 200],
    [60, 200],
    [10, 10],
    [20, 10],
  ]),
);
export default step;
export const handleSummary = summary;
