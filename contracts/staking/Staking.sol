// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {Governed} from "../common/Governed.sol";
import {MarketBinding} from "../common/MarketBinding.sol";

/// @notice The part of the TaskMarket that Staking reads.
interface IChallengeWindowSource {
    /// @notice Longest challenge window a new result can get, in seconds.
    function challengeWindow() external view returns (uint64);
}

/// @title Staking
/// @notice Workers bond VRT here. The TaskMarket locks part of a worker's stake for every task it claims and
/// keeps it locked until the task is finalized (after its challenge window) or its disputes are settled; a lost
/// dispute slashes the locked part. Unbonding only releases unlocked stake and waits {unbondingDelay}, which
/// governance keeps strictly longer than the market's challenge window. Hence a worker cannot withdraw stake
/// that backs a result still inside its challenge window.
contract Staking is Governed, MarketBinding, ReentrancyGuard {
    using SafeERC20 for IERC20;
    using SafeCast for uint256;

    /// @notice Stake ledger of one account.
    /// @param staked Bonded stake, locked part included.
    /// @param locked Part of `staked` backing open tasks (unbondable only after release).
    /// @param unbonding Stake leaving, withdrawable at `unbondingReadyAt`.
    /// @param unbondingReadyAt Timestamp from which `unbonding` can be withdrawn.
    struct Account {
        uint128 staked;
        uint128 locked;
        uint128 unbonding;
        uint64 unbondingReadyAt;
    }

    /// @notice The staking token (VRT).
    IERC20 public immutable token;
    /// @notice Seconds between {requestUnbond} and {withdrawUnbonded}; always > market challenge window.
    uint64 public unbondingDelay;

    mapping(address => Account) private _accounts;

    /// @notice `staker` bonded `amount`.
    event Staked(address indexed staker, uint256 amount, uint256 staked);
    /// @notice `staker` started unbonding `amount`; all its unbonding stake is ready at `readyAt`.
    event UnbondRequested(address indexed staker, uint256 amount, uint256 unbonding, uint64 readyAt);
    /// @notice `staker` withdrew `amount` of unbonded stake.
    event UnbondWithdrawn(address indexed staker, uint256 amount);
    /// @notice The market locked `amount` of `staker`'s stake.
    event StakeLocked(address indexed staker, uint256 amount, uint256 locked);
    /// @notice The market released `amount` of `staker`'s locked stake.
    event StakeUnlocked(address indexed staker, uint256 amount, uint256 locked);
    /// @notice `amount` of `staker`'s locked stake was slashed and sent to `recipient` (the market).
    event StakeSlashed(address indexed staker, uint256 amount, address indexed recipient);
    /// @notice Governance changed the unbonding delay.
    event UnbondingDelayUpdated(uint64 oldDelay, uint64 newDelay);

    /// @notice Zero amount.
    error StakingZeroAmount();
    /// @notice Not enough free (unlocked) stake.
    error StakingInsufficientStake(address agent, uint256 have, uint256 need);
    /// @notice Not enough locked stake to unlock or slash.
    error StakingInsufficientLocked(address agent, uint256 have, uint256 need);
    /// @notice Nothing unbonding.
    error StakingNothingUnbonding(address agent);
    /// @notice Unbonding stake not yet withdrawable.
    error StakingUnbondingNotReady(address agent, uint64 readyAt, uint64 nowTimestamp);
    /// @notice Delay not strictly above the market's challenge window.
    error StakingInvalidUnbondingDelay(uint64 delay, uint64 challengeWindow);

    /// @param token_ Staking token (VRT).
    /// @param governance_ The governance timelock.
    /// @param unbondingDelay_ Initial unbonding delay in seconds (> 0; the market checks it against its window).
    constructor(IERC20 token_, address governance_, uint64 unbondingDelay_) Governed(governance_) {
        if (address(token_) == address(0)) revert GovernedZeroAddress();
        if (unbondingDelay_ == 0) revert StakingInvalidUnbondingDelay(unbondingDelay_, 0);
        token = token_;
        unbondingDelay = unbondingDelay_;
    }

    // ------------------------------------------------------------------ staker actions

    /// @notice Bonds `amount` of the caller's tokens (needs allowance).
    /// @param amount Tokens to bond.
    function stake(uint256 amount) external nonReentrant {
        if (amount == 0) revert StakingZeroAmount();
        Account storage a = _accounts[msg.sender];
        uint128 newStaked = (uint256(a.staked) + amount).toUint128();
        a.staked = newStaked;
        emit Staked(msg.sender, amount, newStaked);
        token.safeTransferFrom(msg.sender, address(this), amount);
    }

    /// @notice Starts unbonding `amount` of free stake. Restarts the delay for all stake already unbonding.
    /// @param amount Tokens to unbond (<= staked - locked).
    function requestUnbond(uint256 amount) external {
        if (amount == 0) revert StakingZeroAmount();
        Account storage a = _accounts[msg.sender];
        uint256 free = a.staked - a.locked;
        if (amount > free) revert StakingInsufficientStake(msg.sender, free, amount);
        // Cannot underflow: amount <= free <= staked.
        unchecked {
            a.staked -= uint128(amount);
        }
        uint128 newUnbonding = (uint256(a.unbonding) + amount).toUint128();
        uint64 readyAt = uint64(block.timestamp) + unbondingDelay;
        a.unbonding = newUnbonding;
        a.unbondingReadyAt = readyAt;
        emit UnbondRequested(msg.sender, amount, newUnbonding, readyAt);
    }

    /// @notice Withdraws all unbonding stake once its delay has passed (pull payment).
    function withdrawUnbonded() external nonReentrant {
        Account storage a = _accounts[msg.sender];
        uint256 amount = a.unbonding;
        if (amount == 0) revert StakingNothingUnbonding(msg.sender);
        if (block.timestamp < a.unbondingReadyAt) {
            revert StakingUnbondingNotReady(msg.sender, a.unbondingReadyAt, uint64(block.timestamp));
        }
        a.unbonding = 0;
        a.unbondingReadyAt = 0;
        emit UnbondWithdrawn(msg.sender, amount);
        token.safeTransfer(msg.sender, amount);
    }

    // ------------------------------------------------------------------ market hooks

    /// @notice Locks `amount` of `staker`'s free stake behind a task. Market only.
    /// @param staker The worker.
    /// @param amount Tokens to lock.
    function lock(address staker, uint256 amount) external onlyMarket {
        Account storage a = _accounts[staker];
        uint256 free = a.staked - a.locked;
        if (amount > free) revert StakingInsufficientStake(staker, free, amount);
        // Cannot overflow: locked + amount <= staked, a uint128.
        uint128 newLocked;
        unchecked {
            newLocked = a.locked + uint128(amount);
        }
        a.locked = newLocked;
        emit StakeLocked(staker, amount, newLocked);
    }

    /// @notice Releases `amount` of `staker`'s locked stake. Market only.
    /// @param staker The worker.
    /// @param amount Tokens to release.
    function unlock(address staker, uint256 amount) external onlyMarket {
        Account storage a = _accounts[staker];
        uint256 locked = a.locked;
        if (amount > locked) revert StakingInsufficientLocked(staker, locked, amount);
        // Cannot underflow: amount <= locked.
        uint128 newLocked;
        unchecked {
            newLocked = uint128(locked - amount);
        }
        a.locked = newLocked;
        emit StakeUnlocked(staker, amount, newLocked);
    }

    /// @notice Slashes `amount` of `staker`'s locked stake and sends it to the market, which splits it between
    /// challenger and treasury. Market only.
    /// @param staker The worker that lost a dispute.
    /// @param amount Locked tokens to slash.
    function slash(address staker, uint256 amount) external onlyMarket nonReentrant {
        Account storage a = _accounts[staker];
        uint256 locked = a.locked;
        if (amount > locked) revert StakingInsufficientLocked(staker, locked, amount);
        // Cannot underflow: amount <= locked <= staked.
        unchecked {
            a.locked = uint128(locked - amount);
            a.staked -= uint128(amount);
        }
        emit StakeSlashed(staker, amount, msg.sender);
        token.safeTransfer(msg.sender, amount);
    }

    // ------------------------------------------------------------------ governance

    /// @notice Sets the unbonding delay; must stay strictly above the market's challenge window. Governance only.
    /// @param newDelay New delay in seconds.
    function setUnbondingDelay(uint64 newDelay) external onlyGovernance {
        uint64 window = market == address(0) ? 0 : IChallengeWindowSource(market).challengeWindow();
        if (newDelay <= window || newDelay == 0) revert StakingInvalidUnbondingDelay(newDelay, window);
        uint64 old = unbondingDelay;
        unbondingDelay = newDelay;
        emit UnbondingDelayUpdated(old, newDelay);
    }

    // ------------------------------------------------------------------ views

    /// @notice Stake ledger of `staker`.
    /// @param staker The account.
    /// @return The ledger.
    function accountOf(address staker) external view returns (Account memory) {
        return _accounts[staker];
    }

    /// @notice Stake of `staker` that is neither locked nor unbonding.
    /// @param staker The account.
    /// @return Free stake.
    function freeStakeOf(address staker) external view returns (uint256) {
        Account storage a = _accounts[staker];
        return a.staked - a.locked;
    }
}
