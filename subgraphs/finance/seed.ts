import type { SeedOptions } from '../kit/domain.js';
import { DATA_END, Random, addDays, entityCounts, isoDate, round2 } from '../kit/deterministic-random.js';
import type { SqlDatabase } from '../kit/sql-database.js';
import { generateProduct } from '../products/seed.js';
import { generateOrders } from '../sales/seed.js';

const TAX_RATE: Record<string, number> = {
  NORTH_AMERICA: 0.07,
  LATIN_AMERICA: 0.16,
  EUROPE: 0.2,
  MIDDLE_EAST_AFRICA: 0.1,
  ASIA_PACIFIC: 0.1,
};
const METHODS: [string, number][] = [['CARD', 60], ['BANK_TRANSFER', 20], ['PAYPAL', 17], ['GIFT_CARD', 3]];

/** Standard unit cost: 35–75% of the list price, fixed per product. */
export function unitCost(seed: number, productId: number): number {
  const rng = Random.for(seed, 'product-cost', productId);
  return round2(generateProduct(seed, productId).price * (0.35 + 0.4 * rng.next()));
}

/** Finance consumes the sales order stream: one invoice per order that was not cancelled. */
export async function seedFinance(db: SqlDatabase, options: SeedOptions): Promise<void> {
  const { products } = entityCounts(options.scale);
  const insertCost = db.inserter('product_costs', ['product_id', 'unit_cost']);
  const costs = new Map<number, number>();
  for (let id = 1; id <= products; id++) {
    costs.set(id, unitCost(options.seed, id));
    await insertCost.add([id, costs.get(id)]);
  }
  await insertCost.done();
  const insertInvoice = db.inserter('invoices', ['id', 'number', 'order_id', 'customer_id', 'issued_on', 'due_on', 'amount', 'tax', 'total', 'status']);
  const insertLine = db.inserter('invoice_lines', ['invoice_id', 'product_id', 'quantity', 'net_amount', 'unit_cost']);
  // Payment ids are numbered here, in the order they are raised (both engines then agree).
  const insertPayment = db.inserter('payments', ['id', 'invoice_id', 'received_on', 'amount', 'method']);

  let invoiceId = 0;
  let paymentId = 0;
  for (const order of generateOrders(options)) {
    if (order.status === 'CANCELLED') continue;
    const rng = Random.for(options.seed, 'invoice', order.id);
    invoiceId++;
    const issued = Date.parse(order.placed_at);
    const due = addDays(issued, 30);
    const tax = round2(order.total * TAX_RATE[order.region]!);
    const total = round2(order.total + tax);
    let status = 'OPEN';
    const payments: [number, number][] = [];
    if (order.status === 'RETURNED') status = 'CREDITED';
    else if (rng.chance(0.93) && addDays(issued, 2) < DATA_END) {
      status = 'PAID';
      const paidOn = addDays(issued, rng.int(0, 40));
      if (rng.chance(0.1)) {
        const first = round2(total * 0.5);
        payments.push([paidOn, first], [addDays(paidOn, rng.int(5, 30)), round2(total - first)]);
      } else payments.push([paidOn, total]);
    } else if (due < DATA_END) status = 'OVERDUE';
    const number = `INV-${order.placed_at.slice(0, 4)}-${String(invoiceId).padStart(7, '0')}`;
    await insertInvoice.add([invoiceId, number, order.id, order.customer_id, isoDate(issued), isoDate(due), order.total, tax, total, status]);
    for (const l of order.lines) await insertLine.add([invoiceId, l.product_id, l.quantity, l.amount, costs.get(l.product_id)]);
    const method = rng.weighted(METHODS);
    for (const [on, amount] of payments) await insertPayment.add([++paymentId, invoiceId, isoDate(on), amount, method]);
  }
  for (const insert of [insertInvoice, insertLine, insertPayment]) await insert.done();
}
