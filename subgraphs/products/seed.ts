import type { SeedOptions } from '../kit/domain.js';
import { Random, entityCounts, isoDate, randomInstant, round2 } from '../kit/deterministic-random.js';
import type { SqlDatabase } from '../kit/sql-database.js';

/** Category → [price range, item nouns, attribute generators]. */
export const CATEGORIES = [
  { id: 1, name: 'Outdoor', price: [25, 400], nouns: ['Tent', 'Backpack', 'Sleeping Bag', 'Trekking Poles', 'Headlamp'] },
  { id: 2, name: 'Kitchen', price: [8, 250], nouns: ['Chef Knife', 'Dutch Oven', 'Espresso Maker', 'Cutting Board', 'Kettle'] },
  { id: 3, name: 'Electronics', price: [15, 1200], nouns: ['Headphones', 'Speaker', 'Monitor', 'Keyboard', 'Charger'] },
  { id: 4, name: 'Apparel', price: [10, 220], nouns: ['Jacket', 'Hoodie', 'Running Shoes', 'Rain Coat', 'Beanie'] },
  { id: 5, name: 'Home', price: [12, 600], nouns: ['Lamp', 'Rug', 'Armchair', 'Bookshelf', 'Throw Blanket'] },
  { id: 6, name: 'Toys', price: [5, 150], nouns: ['Puzzle', 'Building Set', 'Plush Bear', 'Board Game', 'Kite'] },
  { id: 7, name: 'Beauty', price: [6, 120], nouns: ['Face Cream', 'Shampoo', 'Perfume', 'Lip Balm', 'Serum'] },
  { id: 8, name: 'Sports', price: [10, 900], nouns: ['Yoga Mat', 'Dumbbells', 'Bicycle', 'Tennis Racket', 'Football'] },
] as const;
const ADJECTIVES = ['Classic', 'Pro', 'Ultra', 'Eco', 'Compact', 'Deluxe', 'Urban', 'Alpine', 'Nordic', 'Studio'];
const COLOURS = ['black', 'white', 'navy', 'olive', 'red', 'sand', 'grey', 'teal'];
const MATERIALS = ['cotton', 'steel', 'bamboo', 'recycled plastic', 'wool', 'aluminium', 'oak', 'ceramic'];

export interface ProductRecord {
  id: number;
  sku: string;
  name: string;
  description: string;
  category_id: number;
  price: number;
  currency: string;
  attributes: string;
  launched_on: string;
}

/**
 * One product as a pure function of (seed, id). Sales and finance call it for the list price, so
 * order lines and cost figures agree with the catalog without reading its database.
 */
export function generateProduct(seed: number, id: number): ProductRecord {
  const rng = Random.for(seed, 'product', id);
  const category = rng.pick(CATEGORIES);
  const noun = rng.pick(category.nouns);
  const adjective = rng.pick(ADJECTIVES);
  const [low, high] = category.price;
  // Prices cluster at the cheap end, as real catalogs do.
  const price = Math.floor(low + (high - low) * rng.next() ** 2) + 0.99;
  const attributes = [
    { name: 'colour', value: rng.pick(COLOURS) },
    { name: 'material', value: rng.pick(MATERIALS) },
    ...(rng.chance(0.4) ? [{ name: 'size', value: rng.pick(['S', 'M', 'L', 'XL']) }] : []),
  ];
  return {
    id,
    sku: `${category.name.slice(0, 3).toUpperCase()}-${String(id).padStart(6, '0')}`,
    name: `${adjective} ${noun} ${100 + (id % 900)}`,
    description: `${adjective} ${noun.toLowerCase()} in ${attributes[0]!.value} ${attributes[1]!.value}.`,
    category_id: category.id,
    price: round2(price),
    currency: 'USD',
    attributes: JSON.stringify(attributes),
    launched_on: isoDate(randomInstant(rng, Date.UTC(2018, 0, 1), Date.UTC(2024, 11, 31))),
  };
}

export async function seedProducts(db: SqlDatabase, { scale, seed }: SeedOptions): Promise<void> {
  const insertCategory = db.inserter('categories', ['id', 'name']);
  for (const c of CATEGORIES) await insertCategory.add([c.id, c.name]);
  await insertCategory.done();
  const insert = db.inserter('products', ['id', 'sku', 'name', 'description', 'category_id', 'price', 'currency', 'attributes', 'launched_on']);
  const { products } = entityCounts(scale);
  for (let id = 1; id <= products; id++) await insert.add(generateProduct(seed, id) as unknown as Record<string, unknown>);
  await insert.done();
}
