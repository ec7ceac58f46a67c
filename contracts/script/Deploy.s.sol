// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {Script} from "forge-std/Script.sol";
import {VmSafe} from "forge-std/Vm.sol";
import {console} from "forge-std/console.sol";

import {MockUSDC} from "../src/MockUSDC.sol";
import {PayInboxVault} from "../src/PayInboxVault.sol";
import {PricingRegistry} from "../src/PricingRegistry.sol";

/// @notice Deploys PricingRegistry and PayInboxVault (and MockUSDC when no TOKEN is given) and writes
///         `deployments/<chainId>.json` for the worker.
/// @dev Env (all optional): TOKEN (ERC-20 to custody; unset → deploy MockUSDC), OWNER (default: the broadcaster),
///      FEE_RECIPIENT (default: OWNER), FEE_BPS (default 250), RELAYER (address recorded for the worker),
///      MINT_TEST_USDC (default true on chain 31337: mint 1,000,000 USDC to anvil's 10 funded accounts),
///      MNEMONIC (for those accounts; default anvil's). Run via `npm run chain:up` or:
///      forge script script/Deploy.s.sol --rpc-url $RPC --private-key $KEY --broadcast
contract Deploy is Script {
    string internal constant ANVIL_MNEMONIC = "test test test test test test test test test test test junk";

    struct Deployment {
        address token;
        address vault;
        address registry;
        address owner;
        address feeRecipient;
        uint256 feeBps;
        address relayer;
        uint256 deployBlock;
    }

    function run() public virtual returns (Deployment memory d) {
        return _deploy(vm.envOr("TOKEN", address(0)));
    }

    function _deploy(address token) internal returns (Deployment memory d) {
        // Lower bound of the first deployment block: the indexer may start here.
        d.deployBlock = block.number;
        // msg.sender of run() is the broadcaster (--private-key / --sender).
        d.owner = vm.envOr("OWNER", msg.sender);
        d.feeRecipient = vm.envOr("FEE_RECIPIENT", d.owner);
        d.feeBps = vm.envOr("FEE_BPS", uint256(250));
        d.relayer = vm.envOr("RELAYER", address(0));
        vm.startBroadcast();

        if (token == address(0)) {
            require(block.chainid == 31_337 || vm.envOr("ALLOW_MOCK_TOKEN", false), "TOKEN required off anvil");
            MockUSDC mock = new MockUSDC();
            token = address(mock);
            if (block.chainid == 31_337 && vm.envOr("MINT_TEST_USDC", true)) {
                string memory mnemonic = vm.envOr("MNEMONIC", ANVIL_MNEMONIC);
                for (uint32 i; i < 10; ++i) {
                    mock.mint(vm.addr(vm.deriveKey(mnemonic, i)), 1_000_000e6);
                }
            }
        }
        d.token = token;
        d.registry = address(new PricingRegistry());
        d.vault = address(new PayInboxVault(IERC20(token), d.owner, d.feeRecipient, d.feeBps));
        vm.stopBroadcast();

        // Only a real broadcast writes the file the worker reads; a dry run just logs.
        if (vm.isContext(VmSafe.ForgeContext.ScriptBroadcast) || vm.isContext(VmSafe.ForgeContext.ScriptResume)) {
            _write(d);
        }
        console.log("token   ", d.token);
        console.log("registry", d.registry);
        console.log("vault   ", d.vault);
    }

    function _write(Deployment memory d) internal {
        string memory k = "deployment";
        vm.serializeUint(k, "chainId", block.chainid);
        vm.serializeAddress(k, "vault", d.vault);
        vm.serializeAddress(k, "token", d.token);
        vm.serializeAddress(k, "registry", d.registry);
        vm.serializeUint(k, "deployBlock", d.deployBlock);
        vm.serializeAddress(k, "owner", d.owner);
        vm.serializeUint(k, "feeBps", d.feeBps);
        if (d.relayer != address(0)) vm.serializeAddress(k, "relayer", d.relayer);
        string memory json = vm.serializeAddress(k, "feeRecipient", d.feeRecipient);
        vm.writeJson(json, string.concat(vm.projectRoot(), "/deployments/", vm.toString(block.chainid), ".json"));
    }
}
