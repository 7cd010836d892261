import type { SeedOptions } from '../kit/domain.js';
import { DATA_END, DATA_START, Random, entityCounts, isoDateTime, round2 } from '../kit/deterministic-random.js';
import type { SqlDatabase } from '../kit/sql-database.js';
import { generateCustomer, type Region } from '../customers/seed.js';
import { generateProduct } from '../products/seed.js';
import { refreshProductSales } from './repository.js';

export interface GeneratedOrder {
  id: number;
  customer_id: number;
  placed_at: string;
  status: string;
  channel: string;
  region: Region;
  total: number;
  currency: string;
  lines: { line_number: number; product_id: number; quantity: number; unit_price: number; amount: number }[];
}

const STATUSES: [string, number][] = [['DELIVERED', 85], ['SHIPPED', 5], ['CANCELLED', 5], ['RETURNED', 3], ['PENDING', 2]];
const CHANNELS: [string, number][] = [['WEB', 50], ['MOBILE', 30], ['STORE', 15], ['PARTNER', 5]];

/**
 * The order book as a deterministic stream. The finance seed replays it to raise one invoice per
 * order, the way a finance system would consume sales events.
 */
export function* generateOrders({ scale, seed }: SeedOptions): Generator<GeneratedOrder> {
  const counts = entityCounts(scale);
  const regionOf = new Map<number, Region>();
  const priceOf = new Map<number, number>();
  for (let id = 1; id <= counts.orders; id++) {
    const rng = Random.for(seed, 'order', id);
    // Skewed picks: a minority of customers and products account for most orders (Pareto-like).
    const customerId = 1 + Math.floor(counts.customers * rng.next() ** 1.6);
    let region = regionOf.get(customerId);
    if (!region) regionOf.set(customerId, (region = generateCustomer(seed, customerId).region));
    // Later orders are more frequent: the business grows.
    const placed = DATA_START + Math.floor((DATA_END - DATA_START) * Math.sqrt(rng.next()));
    const lines = [];
    const lineCount = rng.weighted([[1, 35], [2, 30], [3, 20], [4, 10], [5, 5]] as [number, number][]);
    for (let n = 1; n <= lineCount; n++) {
      const productId = 1 + Math.floor(counts.products * rng.next() ** 1.8);
      let listPrice = priceOf.get(productId);
      if (listPrice === undefined) priceOf.set(productId, (listPrice = generateProduct(seed, productId).price));
      const discount = rng.chance(0.3) ? rng.pick([0.05, 0.1, 0.15, 0.2]) : 0;
      const unitPrice = round2(listPrice * (1 - discount));
      const quantity = rng.weighted([[1, 70], [2, 20], [3, 7], [4, 3]] as [number, number][]);
      lines.push({ line_number: n, product_id: productId, quantity, unit_price: unitPrice, amount: round2(unitPrice * quantity) });
    }
    yield {
      id,
      customer_id: customerId,
      placed_at: isoDateTime(placed),
      status: rng.weighted(STATUSES),
      channel: rng.weighted(CHANNELS),
      region,
      total: round2(lines.reduce((sum, l) => sum + l.amount, 0)),
      currency: 'USD',
      lines,
    };
  }
}

export async function seedSales(db: SqlDatabase, options: SeedOptions): Promise<void> {
  const insertOrder = db.inserter('orders', ['id', 'customer_id', 'placed_at', 'status', 'channel', 'region', 'total', 'currency']);
  const insertLine = db.inserter('order_lines', ['order_id', 'line_number', 'product_id', 'quantity', 'unit_price', 'amount']);
  for (const order of generateOrders(options)) {
    await insertOrder.add(order as unknown as Record<string, unknown>);
    for (const l of order.lines) await insertLine.add([order.id, l.line_number, l.product_id, l.quantity, l.unit_price, l.amount]);
  }
  await insertOrder.done();
  await insertLine.done();
  await refreshProductSales(db);
}
