import type { SeedOptions } from '../kit/domain.js';
import { DATA_END, Random, entityCounts, isoDate, randomInstant } from '../kit/deterministic-random.js';
import type { SqlDatabase } from '../kit/sql-database.js';

const FIRST_NAMES = ['Olivia', 'Liam', 'Emma', 'Noah', 'Amelia', 'Oliver', 'Sofia', 'Mateo', 'Mia', 'Lucas', 'Yuki', 'Hiro', 'Aisha', 'Omar', 'Priya', 'Arjun', 'Chloé', 'Louis', 'Hannah', 'Jonas', 'Fatima', 'Kwame', 'Ana', 'João', 'Mei', 'Wei', 'Elena', 'Marco', 'Zoe', 'Ethan'];
const LAST_NAMES = ['Smith', 'García', 'Müller', 'Rossi', 'Dubois', 'Kowalski', 'Tanaka', 'Kim', 'Singh', 'Patel', 'Okafor', 'Mensah', 'Silva', 'Santos', 'Chen', 'Wang', 'Nguyen', 'Hansen', 'Jensen', 'Novak', 'Haddad', 'Cohen', 'Brown', 'Martin', 'López', 'Ivanova', 'Fischer', 'Moreau', 'Sato', 'Ali'];

/** Region → [country, country calling code, cities]. */
const GEOGRAPHY: Record<string, readonly (readonly [string, string, readonly string[]])[]> = {
  NORTH_AMERICA: [['United States', '1', ['New York', 'Chicago', 'Austin', 'Seattle']], ['Canada', '1', ['Toronto', 'Montreal', 'Vancouver']]],
  LATIN_AMERICA: [['Brazil', '55', ['São Paulo', 'Rio de Janeiro']], ['Mexico', '52', ['Mexico City', 'Guadalajara']], ['Argentina', '54', ['Buenos Aires']]],
  EUROPE: [['Germany', '49', ['Berlin', 'Munich', 'Hamburg']], ['France', '33', ['Paris', 'Lyon']], ['Italy', '39', ['Milan', 'Rome']], ['Spain', '34', ['Madrid', 'Barcelona']], ['Poland', '48', ['Warsaw']]],
  MIDDLE_EAST_AFRICA: [['United Arab Emirates', '971', ['Dubai']], ['Nigeria', '234', ['Lagos']], ['South Africa', '27', ['Cape Town', 'Johannesburg']]],
  ASIA_PACIFIC: [['Japan', '81', ['Tokyo', 'Osaka']], ['India', '91', ['Mumbai', 'Bengaluru']], ['Australia', '61', ['Sydney', 'Melbourne']], ['Singapore', '65', ['Singapore']]],
};
export type Region = 'NORTH_AMERICA' | 'LATIN_AMERICA' | 'EUROPE' | 'MIDDLE_EAST_AFRICA' | 'ASIA_PACIFIC';
const REGION_WEIGHTS: [Region, number][] = [['NORTH_AMERICA', 30], ['EUROPE', 30], ['ASIA_PACIFIC', 22], ['LATIN_AMERICA', 11], ['MIDDLE_EAST_AFRICA', 7]];

export interface CustomerRecord {
  id: number;
  first_name: string;
  last_name: string;
  email: string;
  phone: string | null;
  birth_date: string | null;
  region: Region;
  country: string;
  city: string;
  signup_date: string;
}

/**
 * One customer as a pure function of (seed, id). The sales seed calls it to stamp each order with
 * the customer's region at the time of sale.
 */
export function generateCustomer(seed: number, id: number): CustomerRecord {
  const rng = Random.for(seed, 'customer', id);
  const first = rng.pick(FIRST_NAMES);
  const last = rng.pick(LAST_NAMES);
  const region = rng.weighted(REGION_WEIGHTS);
  const [country, callingCode, cities] = rng.pick(GEOGRAPHY[region]!);
  const ascii = (s: string) => s.normalize('NFD').replace(/[^A-Za-z]/g, '').toLowerCase();
  return {
    id,
    first_name: first,
    last_name: last,
    email: `${ascii(first)}.${ascii(last)}${id}@example.com`,
    phone: rng.chance(0.85) ? `+${callingCode}${rng.int(200_000_000, 999_999_999)}` : null,
    birth_date: rng.chance(0.9) ? isoDate(Date.UTC(rng.int(1945, 2005), rng.int(0, 11), rng.int(1, 28))) : null,
    region,
    country,
    city: rng.pick(cities),
    signup_date: isoDate(randomInstant(rng, Date.UTC(2019, 0, 1), DATA_END)),
  };
}

export async function seedCustomers(db: SqlDatabase, { scale, seed }: SeedOptions): Promise<void> {
  const insert = db.inserter('customers', ['id', 'first_name', 'last_name', 'email', 'phone', 'birth_date', 'region', 'country', 'city', 'signup_date']);
  const { customers } = entityCounts(scale);
  for (let id = 1; id <= customers; id++) await insert.add(generateCustomer(seed, id) as unknown as Record<string, unknown>);
  await insert.done();
}
