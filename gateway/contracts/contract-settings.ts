/** One contract as gateway.yaml declares it (`contracts.<name>`), GraphOS's filter plus our classification ceiling. */
export interface ContractSettings {
  include: string[];
  exclude: string[];
  hide_unreachable_types: boolean;
  /** Ours: every field the contract exposes must be classified at most this (PUBLIC, INTERNAL…); null: no ceiling. */
  max_classification: string | null;
}

export const CONTRACT_NAME = /^[a-z][a-z0-9_-]{0,62}$/;
