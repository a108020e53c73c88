// The PetSwipe user journey shared by every scenario: browse pets, swipe, read matches.
import http from 'k6/http';
import { check } from 'k6';

export const BASE_URL = __ENV.BASE_URL || 'http://127.0.0.1:18080';
const API_KEY = __ENV.API_KEY || '';

export const params = {
  headers: Object.assign(
    { 'Content-Type': 'application/json' },
    API_KEY ? { 'X-API-Key': API_KEY } : {},
  ),
};

function pick(max) {
  return 1 + Math.floor(Math.random() * max);
}

// One request per call, so an arrival rate in iterations is a rate in requests.
export function journeyStep() {
  const roll = Math.random();
  let res;
  if (roll < 0.45) {
    res = http.get(`${BASE_URL}/api/pets?limit=20`, Object.assign({ tags: { name: 'pets' } }, params));
  } else if (roll < 0.75) {
    res = http.get(`${BASE_URL}/api/pets/${pick(50)}`, Object.assign({ tags: { name: 'pet' } }, params));
  } else if (roll < 0.9) {
    const body = JSON.stringify({
      user_id: pick(20),
      pet_id: pick(50),
      direction: Math.random() < 0.5 ? 'like' : 'pass',
    });
    res = http.post(`${BASE_URL}/api/swipes`, body, Object.assign({ tags: { name: 'swipe' } }, params));
  } else {
    res = http.get(`${BASE_URL}/api/matches?user_id=${pick(20)}`, Object.assign({ tags: { name: 'matches' } }, params));
  }
  check(res, { 'status is 2xx': (r) => r.status >= 200 && r.status < 300 });
  return res;
}
