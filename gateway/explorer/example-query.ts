/** The query the explorer opens with: one request that crosses all five domains. */
export const EXAMPLE_QUERY = `# One query, five domains: customers → orders (sales)
# → invoices (finance), lines → products (catalog)
# → sales trends (sales), and segment (marketing).
# Press ▶ to run it. The book icon (top left) opens the
# docs: each field's classification and what it needs.
# In development, the Persona menu above picks a token:
# Finance may read all of this; try Analyst or Anonymous.
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
