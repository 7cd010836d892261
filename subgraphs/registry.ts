import customers from './customers/index.js';
import finance from './finance/index.js';
import marketing from './marketing/index.js';
import products from './products/index.js';
import sales from './sales/index.js';
import type { Domain } from './kit/domain.js';

/** Every domain of the mesh, in start order. Adding a domain = adding its folder and a line here. */
export const DOMAINS: readonly Domain[] = [customers, products, sales, marketing, finance];
