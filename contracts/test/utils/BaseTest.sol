// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test} from "forge-std/Test.sol";

import {MockUSDC} from "../../src/MockUSDC.sol";
import {PayInboxVault} from "../../src/PayInboxVault.sol";
import {IPayInboxVault} from "../../src/interfaces/IPayInboxVault.sol";

/// @dev Shared deployment and helpers: a vault on MockUSDC, named accounts with keys, EIP-712 signing.
abstract contract BaseTest is Test {
    uint256 internal constant FEE_BPS = 250;
    uint256 internal constant USDC = 1e6;

    MockUSDC internal usdc;
    PayInboxVault internal vault;

    address internal owner = makeAddr("owner");
    address internal feeRecipient = makeAddr("feeRecipient");
    address internal alice;
    uint256 internal aliceKey;
    address internal bob;
    uint256 internal bobKey;
    address internal carol = makeAddr("carol");

    function setUp() public virtual {
        (alice, aliceKey) = makeAddrAndKey("alice");
        (bob, bobKey) = makeAddrAndKey("bob");
        usdc = new MockUSDC();
        vault = new PayInboxVault(usdc, owner, feeRecipient, FEE_BPS);
    }

    /// @dev Mints `amount` to `user`, approves the vault and deposits it.
    function _fund(address user, uint256 amount) internal {
        usdc.mint(user, amount);
        vm.startPrank(user);
        usdc.approve(address(vault), amount);
        vault.deposit(amount);
        vm.stopPrank();
    }

    function _payment(address payer, address recipient, uint256 amount, uint256 nonce)
        internal
        view
        returns (IPayInboxVault.Payment memory)
    {
        return IPayInboxVault.Payment({
            payer: payer,
            recipient: recipient,
            messageId: keccak256(abi.encode("msg", payer, nonce)),
            contentHash: keccak256(abi.encode("content", payer, nonce)),
            amount: amount,
            nonce: nonce,
            deadline: block.timestamp + 1 hours
        });
    }

    /// @dev The EIP-712 digest computed independently of the vault (domain and struct hash by hand).
    function _digest(IPayInboxVault.Payment memory p, uint256 chainId, address verifyingContract)
        internal
        pure
        returns (bytes32)
    {
        bytes32 domain = keccak256(
            abi.encode(
                keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"),
                keccak256("PayInboxVault"),
                keccak256("1"),
                chainId,
                verifyingContract
            )
        );
        bytes32 structHash = keccak256(
            abi.encode(
                keccak256(
                    "Payment(address payer,address recipient,bytes32 messageId,bytes32 contentHash,uint256 amount,uint256 nonce,uint256 deadline)"
                ),
                p.payer,
                p.recipient,
                p.messageId,
                p.contentHash,
                p.amount,
                p.nonce,
                p.deadline
            )
        );
        return keccak256(abi.encodePacked("\x19\x01", domain, structHash));
    }

    function _sign(uint256 key, IPayInboxVault.Payment memory p) internal view returns (bytes memory) {
        return _signDigest(key, _digest(p, block.chainid, address(vault)));
    }

    function _signDigest(uint256 key, bytes32 digest) internal pure returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(key, digest);
        return abi.encodePacked(r, s, v);
    }

    /// @dev A `settleBatchPacked` entry with an EIP-2098 compact signature by `key`.
    function _packed(uint256 key, IPayInboxVault.Payment memory p, uint8 channel) internal view returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(key, _digest(p, block.chainid, address(vault)));
        return abi.encodePacked(_packedHeader(p, channel, 0), r, bytes32(uint256(s) | (uint256(v - 27) << 255)));
    }

    /// @dev A `settleBatchPacked` entry carrying `signature` for the payer's ERC-1271 check.
    function _packed1271(IPayInboxVault.Payment memory p, uint8 channel, bytes memory signature)
        internal
        pure
        returns (bytes memory)
    {
        return abi.encodePacked(_packedHeader(p, channel, uint16(signature.length)), signature);
    }

    /// @dev The 136-byte header of a packed entry (fields narrowed as the layout says; the test keeps them in range).
    function _packedHeader(IPayInboxVault.Payment memory p, uint8 channel, uint16 sigLength)
        internal
        pure
        returns (bytes memory)
    {
        return abi.encodePacked(
            p.payer,
            p.recipient,
            p.messageId,
            p.contentHash,
            uint128(p.amount),
            uint64(p.nonce),
            uint40(p.deadline),
            channel,
            sigLength
        );
    }

    function _fee(uint256 amount) internal pure returns (uint256) {
        return amount * FEE_BPS / 10_000;
    }
}
