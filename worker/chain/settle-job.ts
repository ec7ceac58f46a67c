// What the `settle` queue carries (chain mode): one payment the payer signed as
// EIP-712 `Payment` typed data (see contracts/src/interfaces/IPayInboxVault.sol),
// accepted by the Accounts and waiting for the relayer to put it on chain in a
// `settleBatch`. Produced by the send path, consumed by the relayer. The indexed
// `MessagePaid` / `PaymentSkipped` event, not the relayer's receipt, decides the
// message's fate.
import type { Hex } from "viem";
import type { PaymentMessage } from "../domain/payment-intent";

export interface SettleJob {
  /** The signed `Payment` as on the wire (worker/domain/payment-intent.ts). */
  payment: PaymentMessage;
  /** The payer's signature over the typed data: 65-byte ECDSA, or whatever an ERC-1271 wallet accepts. */
  signature: Hex;
  /** App-defined delivery-channel tag echoed in `MessagePaid`. */
  channel: number;
}
