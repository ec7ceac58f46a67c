// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC1271} from "@openzeppelin/contracts/interfaces/IERC1271.sol";
import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";

import {IPayInboxVault} from "../../src/interfaces/IPayInboxVault.sol";

/// @dev A smart-account payer: approves digests signed by its owner key, or refuses everything when told to.
contract MockERC1271Wallet is IERC1271 {
    address public immutable signer;
    bool public refuse;

    constructor(address signer_) {
        signer = signer_;
    }

    function setRefuse(bool refuse_) external {
        refuse = refuse_;
    }

    function isValidSignature(bytes32 hash, bytes calldata signature) external view returns (bytes4) {
        if (refuse) return 0xffffffff;
        (address recovered, ECDSA.RecoverError err,) = ECDSA.tryRecoverCalldata(hash, signature);
        return err == ECDSA.RecoverError.NoError && recovered == signer ? IERC1271.isValidSignature.selector : bytes4(0);
    }
}

/// @dev A hostile smart-account payer: burns all the gas it is given, or reverts.
contract GasGuzzlerWallet is IERC1271 {
    bool public immutable revertInstead;

    constructor(bool revertInstead_) {
        revertInstead = revertInstead_;
    }

    function isValidSignature(bytes32, bytes calldata) external view returns (bytes4) {
        if (revertInstead) revert("no");
        uint256 x;
        while (gasleft() > 100) {
            x = uint256(keccak256(abi.encode(x)));
        }
        return IERC1271.isValidSignature.selector;
    }
}

/// @dev A token that calls back into the vault during transfers (to test the reentrancy guard).
contract ReentrantToken is ERC20 {
    IPayInboxVault public vault;
    bytes public callback;

    constructor() ERC20("Reentrant", "RE") {}

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    function arm(IPayInboxVault vault_, bytes calldata callback_) external {
        vault = vault_;
        callback = callback_;
    }

    function _update(address from, address to, uint256 value) internal override {
        super._update(from, to, value);
        if (address(vault) != address(0) && callback.length != 0) {
            bytes memory data = callback;
            delete callback;
            (bool ok, bytes memory ret) = address(vault).call(data);
            if (!ok) {
                assembly ("memory-safe") {
                    revert(add(ret, 0x20), mload(ret))
                }
            }
        }
    }
}
