/** The query the explorer opens with: one request that crosses all five domains. */
export const EXAMPLE_QUERY = `# One query, five domains: customers → orders (sales) → invoices (finance),
# lines → products (catalog) → sales trends (sales), and segment (marketing).
# Press ▶ to run it. The book icon (top left) opens the schema docs, and
# { dataProducts { id name owner { team } } } lists the mesh's data products.
# In development, the Headers tab below holds a token that may read all of this.
query CustomerOverview {
  customer(id: "42") {
    fullName
    region
    segment {
      name
    }
    lifetimeValue
    orders(first: 2) {
      id
      placedAt
      total
      invoice {
        number
        status
      }
      lines {
        quantity
        product {
          name
          category {
            name
          }
          salesTrend(period: QUARTER, last: 4) {
            period
            units
            revenue
          }
        }
      }
    }
  }
}
`;
