// What every campaign scenario shares: the seed's thresholds, the scaling of durations
// and rates, the bounds on VUs, and the JSON summary the pipeline reads.
//
// SCALE multiplies every duration and RATE_SCALE every arrival rate, so CI and the
// sandbox run short or light versions of the same scripts. Floors keep a tiny SCALE
// meaningful: every stage lasts at least MIN_STAGE_S, every rate is at least 1/s.
import { journeyStep } from './journey.js';

function positive(name, fallback) {
  const value = parseFloat(__ENV[name] || `${fallback}`);
  if (!(value > 0)) {
    throw new Error(`${name} must be a positive number, not '${__ENV[name]}'`);
  }
  return value;
}

export const SCALE = positive('SCALE', 1);
export const RATE_SCALE = positive('RATE_SCALE', 1);
const MAX_VUS = Math.floor(positive('MAX_VUS', 200));
const MIN_STAGE_S = 3;

// `seconds` of the full-scale scenario, scaled, never under `floor` seconds.
export function duration(seconds, floor = MIN_STAGE_S) {
  return `${Math.max(floor, Math.round(seconds * SCALE))}s`;
}

export function rate(perSecond) {
  return Math.max(1, Math.round(perSecond * RATE_SCALE));
}

// Enough VUs for `peak` requests/s answered within a second (the p99 limit); capped.
function vus(peak) {
  const max = Math.min(MAX_VUS, Math.max(10, Math.ceil(rate(peak) * 1.5)));
  return { preAllocatedVUs: Math.min(max, Math.max(5, Math.ceil(rate(peak) / 4))), maxVUs: max };
}

// A steady arrival rate (requests/s) for `seconds`.
export function constant(perSecond, seconds, floor = MIN_STAGE_S) {
  return Object.assign(
    {
      executor: 'constant-arrival-rate',
      rate: rate(perSecond),
      timeUnit: '1s',
      duration: duration(seconds, floor),
      gracefulStop: '5s',
    },
    vus(perSecond),
  );
}

// Arrival rates ramping through `stages` of [seconds, requests/s at the end].
export function ramping(startRate, stages) {
  const peak = Math.max(startRate, ...stages.map((s) => s[1]));
  return Object.assign(
    {
      executor: 'ramping-arrival-rate',
      startRate: rate(startRate),
      timeUnit: '1s',
      stages: stages.map(([seconds, target]) => ({
        duration: duration(seconds),
        target: target === 0 ? 0 : rate(target),
      })),
      gracefulStop: '5s',
    },
    vus(peak),
  );
}

// The seed's thresholds; a clear breach stops the run once a few seconds are in.
function abortable(threshold) {
  return { threshold, abortOnFail: true, delayAbortEval: duration(10) };
}

export const thresholds = {
  http_req_duration: [abortable('p(95)<500'), abortable('p(99)<1000')],
  http_req_failed: [abortable('rate<0.01')],
  checks: [abortable('rate>0.95')],
};

export function options(name, scenario) {
  return {
    scenarios: { [name]: scenario },
    thresholds,
    summaryTrendStats: ['avg', 'min', 'med', 'max', 'p(50)', 'p(90)', 'p(95)', 'p(99)', 'count'],
  };
}

export function step() {
  journeyStep({ bodies: true });
}

// The whole summary as JSON where the pipeline asked for it (SUMMARY_PATH).
export function summary(data) {
  const text = JSON.stringify(data);
  return __ENV.SUMMARY_PATH ? { [__ENV.SUMMARY_PATH]: text } : { stdout: `${text}\n` };
}
