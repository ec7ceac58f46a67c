// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {PayInboxVault} from "../src/PayInboxVault.sol";
import {IPayInboxVault} from "../src/interfaces/IPayInboxVault.sol";
import {BaseTest} from "./utils/BaseTest.sol";
import {GasGuzzlerWallet, MockERC1271Wallet} from "./utils/Mocks.sol";

/// @dev Signature tests: replay, chain and contract binding, deadline, malleability, tampering, ERC-1271.
contract PayInboxVaultSigTest is BaseTest {
    /// @dev secp256k1 group order.
    uint256 internal constant N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141;

    function setUp() public override {
        super.setUp();
        _fund(alice, 100 * USDC);
    }

    function _one(IPayInboxVault.Payment memory p, bytes memory sig)
        internal
        pure
        returns (IPayInboxVault.SignedPayment[] memory batch)
    {
        batch = new IPayInboxVault.SignedPayment[](1);
        batch[0] = IPayInboxVault.SignedPayment({payment: p, channel: 0, signature: sig});
    }

    // ───────────────────────────── replay ─────────────────────────────

    function test_replay_sameSignatureTwiceFails() public {
        IPayInboxVault.Payment memory p = _payment(alice, bob, USDC, 0);
        bytes memory sig = _sign(aliceKey, p);
        vault.payWithSig(p, 0, sig);
        vm.expectRevert(abi.encodeWithSelector(IPayInboxVault.InvalidNonce.selector, alice, 1, 0));
        vault.payWithSig(p, 0, sig);
        assertEq(vault.balanceOf(bob), USDC, "paid once");
    }

    function test_replay_acrossSingleAndBatchFails() public {
        IPayInboxVault.Payment memory p = _payment(alice, bob, USDC, 0);
        bytes memory sig = _sign(aliceKey, p);
        assertEq(vault.settleBatch(_one(p, sig)), 1);
        assertEq(vault.settleBatch(_one(p, sig)), 0);
        vm.expectRevert(abi.encodeWithSelector(IPayInboxVault.InvalidNonce.selector, alice, 1, 0));
        vault.payWithSig(p, 0, sig);
        assertEq(vault.balanceOf(bob), USDC, "paid once");
    }

    /// @dev A direct payment uses the nonce too, so a signature for that nonce can no longer settle.
    function test_replay_directPaymentConsumesNonce() public {
        IPayInboxVault.Payment memory p = _payment(alice, bob, USDC, 0);
        bytes memory sig = _sign(aliceKey, p);
        vm.prank(alice);
        vault.sendMessagePayment(carol, bytes32(0), bytes32(0), 0, USDC);
        vm.expectRevert(abi.encodeWithSelector(IPayInboxVault.InvalidNonce.selector, alice, 1, 0));
        vault.payWithSig(p, 0, sig);
    }

    // ───────────────────────────── chain and contract binding ─────────────────────────────

    function test_wrongChainId_signedForOtherChain() public {
        IPayInboxVault.Payment memory p = _payment(alice, bob, USDC, 0);
        bytes memory sig = _signDigest(aliceKey, _digest(p, block.chainid + 1, address(vault)));
        vm.expectRevert(abi.encodeWithSelector(IPayInboxVault.InvalidSignature.selector, alice));
        vault.payWithSig(p, 0, sig);
    }

    /// @dev After a fork the chain id changes and the domain separator is recomputed: old signatures die.
    function test_wrongChainId_afterFork() public {
        IPayInboxVault.Payment memory p = _payment(alice, bob, USDC, 0);
        bytes memory sig = _sign(aliceKey, p);
        bytes32 before = vault.DOMAIN_SEPARATOR();
        vm.chainId(block.chainid + 1);
        assertTrue(vault.DOMAIN_SEPARATOR() != before);
        vm.expectRevert(abi.encodeWithSelector(IPayInboxVault.InvalidSignature.selector, alice));
        vault.payWithSig(p, 0, sig);
    }

    function test_wrongContract_signedForOtherVault() public {
        PayInboxVault other = new PayInboxVault(usdc, owner, feeRecipient, FEE_BPS);
        IPayInboxVault.Payment memory p = _payment(alice, bob, USDC, 0);
        bytes memory sig = _signDigest(aliceKey, _digest(p, block.chainid, address(other)));
        vm.expectRevert(abi.encodeWithSelector(IPayInboxVault.InvalidSignature.selector, alice));
        vault.payWithSig(p, 0, sig);
    }

    function test_wrongContract_replayOnSecondDeployment() public {
        PayInboxVault other = new PayInboxVault(usdc, owner, feeRecipient, FEE_BPS);
        usdc.mint(alice, 100 * USDC);
        vm.startPrank(alice);
        usdc.approve(address(other), 100 * USDC);
        other.deposit(100 * USDC);
        vm.stopPrank();
        IPayInboxVault.Payment memory p = _payment(alice, bob, USDC, 0);
        bytes memory sig = _sign(aliceKey, p); // for `vault`
        vault.payWithSig(p, 0, sig);
        vm.expectRevert(abi.encodeWithSelector(IPayInboxVault.InvalidSignature.selector, alice));
        other.payWithSig(p, 0, sig);
    }

    // ───────────────────────────── deadline ─────────────────────────────

    function test_expiredDeadline() public {
        IPayInboxVault.Payment memory p = _payment(alice, bob, USDC, 0);
        bytes memory sig = _sign(aliceKey, p);
        vm.warp(p.deadline + 1);
        vm.expectRevert(abi.encodeWithSelector(IPayInboxVault.PaymentExpired.selector, p.deadline, p.deadline + 1));
        vault.payWithSig(p, 0, sig);
        vm.expectEmit(true, true, true, true);
        emit IPayInboxVault.PaymentSkipped(alice, p.messageId, 0, IPayInboxVault.PaymentExpired.selector);
        assertEq(vault.settleBatch(_one(p, sig)), 0);
    }

    /// @dev Extending the deadline after signing changes the digest.
    function test_deadlineIsSigned() public {
        IPayInboxVault.Payment memory p = _payment(alice, bob, USDC, 0);
        bytes memory sig = _sign(aliceKey, p);
        p.deadline += 1;
        vm.expectRevert(abi.encodeWithSelector(IPayInboxVault.InvalidSignature.selector, alice));
        vault.payWithSig(p, 0, sig);
    }

    // ───────────────────────────── malleability and shape ─────────────────────────────

    /// @dev (r, N - s, v ^ 1) recovers the same key with ecrecover; the vault rejects the high-s twin.
    function test_malleableSignature_highSRejected() public {
        IPayInboxVault.Payment memory p = _payment(alice, bob, USDC, 0);
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(aliceKey, _digest(p, block.chainid, address(vault)));
        bytes32 highS = bytes32(N - uint256(s));
        uint8 flippedV = v == 27 ? 28 : 27;
        assertEq(ecrecover(vault.hashPayment(p), flippedV, r, highS), alice, "twin recovers the same key");
        bytes memory twin = abi.encodePacked(r, highS, flippedV);
        vm.expectRevert(abi.encodeWithSelector(IPayInboxVault.InvalidSignature.selector, alice));
        vault.payWithSig(p, 0, twin);
        // The canonical one works, once.
        vault.payWithSig(p, 0, abi.encodePacked(r, s, v));
        assertEq(vault.nonces(alice), 1);
    }

    /// @dev EIP-2098 64-byte compact signatures are not accepted for EOAs.
    function test_compactSignature_rejected() public {
        IPayInboxVault.Payment memory p = _payment(alice, bob, USDC, 0);
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(aliceKey, _digest(p, block.chainid, address(vault)));
        bytes32 vs = bytes32(uint256(s) | (uint256(v - 27) << 255));
        vm.expectRevert(abi.encodeWithSelector(IPayInboxVault.InvalidSignature.selector, alice));
        vault.payWithSig(p, 0, abi.encodePacked(r, vs));
    }

    function test_garbageSignature_rejected() public {
        IPayInboxVault.Payment memory p = _payment(alice, bob, USDC, 0);
        vm.expectRevert(abi.encodeWithSelector(IPayInboxVault.InvalidSignature.selector, alice));
        vault.payWithSig(p, 0, hex"");
        vm.expectRevert(abi.encodeWithSelector(IPayInboxVault.InvalidSignature.selector, alice));
        vault.payWithSig(p, 0, abi.encodePacked(bytes32(uint256(1)), bytes32(uint256(2)), uint8(27)));
    }

    function test_tamperedFields_rejected() public {
        IPayInboxVault.Payment memory p = _payment(alice, bob, USDC, 0);
        bytes memory sig = _sign(aliceKey, p);
        IPayInboxVault.Payment memory q = p;

        q = _payment(alice, bob, USDC, 0);
        q.amount = 2 * USDC;
        vm.expectRevert(abi.encodeWithSelector(IPayInboxVault.InvalidSignature.selector, alice));
        vault.payWithSig(q, 0, sig);

        q = _payment(alice, bob, USDC, 0);
        q.recipient = carol;
        vm.expectRevert(abi.encodeWithSelector(IPayInboxVault.InvalidSignature.selector, alice));
        vault.payWithSig(q, 0, sig);

        q = _payment(alice, bob, USDC, 0);
        q.messageId = keccak256("other");
        vm.expectRevert(abi.encodeWithSelector(IPayInboxVault.InvalidSignature.selector, alice));
        vault.payWithSig(q, 0, sig);

        q = _payment(alice, bob, USDC, 0);
        q.contentHash = keccak256("other");
        vm.expectRevert(abi.encodeWithSelector(IPayInboxVault.InvalidSignature.selector, alice));
        vault.payWithSig(q, 0, sig);
    }

    // ───────────────────────────── ERC-1271 ─────────────────────────────

    function _wallet() internal returns (MockERC1271Wallet wallet) {
        wallet = new MockERC1271Wallet(bob); // bob's key controls the wallet
        _fund(address(wallet), 100 * USDC);
    }

    function test_erc1271_walletApproves() public {
        MockERC1271Wallet wallet = _wallet();
        IPayInboxVault.Payment memory p = _payment(address(wallet), carol, USDC, 0);
        bytes memory sig = _sign(bobKey, p);
        vault.payWithSig(p, 0, sig);
        assertEq(vault.balanceOf(carol), USDC);
        assertEq(vault.nonces(address(wallet)), 1);
        // ... and in a batch (capped gas path), next nonce.
        p = _payment(address(wallet), carol, USDC, 1);
        assertEq(vault.settleBatch(_one(p, _sign(bobKey, p))), 1);
        assertEq(vault.balanceOf(carol), 2 * USDC);
    }

    function test_erc1271_walletRefuses() public {
        MockERC1271Wallet wallet = _wallet();
        wallet.setRefuse(true);
        IPayInboxVault.Payment memory p = _payment(address(wallet), carol, USDC, 0);
        bytes memory sig = _sign(bobKey, p);
        vm.expectRevert(abi.encodeWithSelector(IPayInboxVault.InvalidSignature.selector, address(wallet)));
        vault.payWithSig(p, 0, sig);
        vm.expectEmit(true, true, true, true);
        emit IPayInboxVault.PaymentSkipped(address(wallet), p.messageId, 0, IPayInboxVault.InvalidSignature.selector);
        assertEq(vault.settleBatch(_one(p, sig)), 0);
    }

    function test_erc1271_wrongKeyRefused() public {
        MockERC1271Wallet wallet = _wallet();
        IPayInboxVault.Payment memory p = _payment(address(wallet), carol, USDC, 0);
        vm.expectRevert(abi.encodeWithSelector(IPayInboxVault.InvalidSignature.selector, address(wallet)));
        vault.payWithSig(p, 0, _sign(aliceKey, p));
    }

    function test_erc1271_revertingWalletRefused() public {
        GasGuzzlerWallet wallet = new GasGuzzlerWallet(true);
        _fund(address(wallet), 10 * USDC);
        IPayInboxVault.Payment memory p = _payment(address(wallet), carol, USDC, 0);
        vm.expectRevert(abi.encodeWithSelector(IPayInboxVault.InvalidSignature.selector, address(wallet)));
        vault.payWithSig(p, 0, hex"1234");
    }

    /// @dev A wallet that burns all gas it is given costs the batch at most BATCH_ERC1271_GAS; the others settle.
    function test_erc1271_gasGuzzlerCannotStarveBatch() public {
        GasGuzzlerWallet wallet = new GasGuzzlerWallet(false);
        _fund(address(wallet), 10 * USDC);
        IPayInboxVault.SignedPayment[] memory batch = new IPayInboxVault.SignedPayment[](2);
        IPayInboxVault.Payment memory bad = _payment(address(wallet), carol, USDC, 0);
        batch[0] = IPayInboxVault.SignedPayment({payment: bad, channel: 0, signature: hex"00"});
        IPayInboxVault.Payment memory good = _payment(alice, carol, USDC, 0);
        batch[1] = IPayInboxVault.SignedPayment({payment: good, channel: 0, signature: _sign(aliceKey, good)});
        uint256 settled = vault.settleBatch{gas: 1_000_000}(batch);
        assertEq(settled, 1);
        assertEq(vault.balanceOf(carol), USDC);
    }

    /// @dev A contract payer's address has no known key, so an ECDSA signature "by" it cannot exist; an EOA key
    ///      holder cannot pay from someone else's wallet.
    function test_erc1271_eoaSignatureOfOtherKeyDoesNotPassForWallet() public {
        MockERC1271Wallet wallet = _wallet();
        IPayInboxVault.Payment memory p = _payment(address(wallet), carol, USDC, 0);
        bytes memory sig = _sign(aliceKey, p);
        assertEq(vault.settleBatch(_one(p, sig)), 0);
    }
}
