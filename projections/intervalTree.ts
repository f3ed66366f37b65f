/**
 * The relational interval tree (Kriegel, Pötke and Seidl, VLDB 2000) that makes "which versions
 * are valid at T" a handful of B-tree range scans in any SQL store. Each interval [lower, upper]
 * is filed under its fork node in a virtual binary tree over the instant domain; a stabbing query
 * visits the ~43 nodes on the path from the root to T.
 *
 * This module is the arithmetic only; stores turn `stabbingPlan` into SQL.
 */
import { MAX_INSTANT } from '../domain/instant'

/** Root of the virtual tree: 2^42, so the tree covers [1, 2^43 - 1]. */
const ROOT = 2 ** 42

/** Closed upper bound of a half-open validity interval; open-ended intervals reach the domain's end. */
export const upperOf = (validTo: number | null): number => (validTo === null ? MAX_INSTANT : validTo - 1)

/** The fork node of [lower, upper]: the highest tree node that lies inside the interval. */
export const forkNode = (lower: number, upper: number): number => {
  let node = ROOT
  for (let step = ROOT / 2; step >= 1; step /= 2) {
    if (upper < node) node -= step
    else if (node < lower) node += step
    else return node
  }
  return node
}

export interface StabbingPlan {
  /** Nodes left of the point: a version filed there matches when its upper bound reaches the point. */
  readonly leftNodes: number[]
  /** Nodes right of the point: a version filed there matches when its lower bound is at or before it. */
  readonly rightNodes: number[]
}

export const stabbingPlan = (point: number): StabbingPlan => {
  const leftNodes: number[] = []
  const rightNodes: number[] = []
  let node = ROOT
  for (let step = ROOT / 2; ; step /= 2) {
    if (point < node) rightNodes.push(node)
    else if (point > node) leftNodes.push(node)
    else {
      // The node equals the point: every interval filed here contains it. Filing it as a left
      // node with `upper >= point` selects them all, since lower <= node <= upper.
      leftNodes.push(node)
      break
    }
    if (step < 1) break
    node = point < node ? node - step : node + step
  }
  return { leftNodes, rightNodes }
}
