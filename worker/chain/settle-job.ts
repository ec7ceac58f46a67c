// What the `settle` queue carries (chain mode): one payment the payer signed as
// EIP-712 `Payment` typed data (see contracts/src/interfaces/IPayInboxVault.sol),
// accepted by the Accounts and waiting for the relayer to put it on chain in a
// `settleBatch`. Produced by the send path, consumed by the relayer. The indexed
// `MessagePaid` / `PaymentSkipped` event, not the relayer's receipt, decides the
// message's fate.
import type { Address, Hex } from "viem";

export interface SettleJob {
  payment: {
    payer: Address;
    recipient: Address;
    /** bytes32: the off-chain messageId. */
    messageId: Hex;
    contentHash: Hex;
    /** Base units, decimal strings (uint256 on chain). */
    amount: string;
    nonce: string;
    deadline: string;
  };
  /** The payer's signature over the typed data: 65-byte ECDSA, or whatever an ERC-1271 wallet accepts. */
  signature: Hex;
  /** App-defined delivery-channel tag echoed in `MessagePaid`. */
  channel: number;
}
