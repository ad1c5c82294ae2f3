/** The composition root: builds a node's adapters and its Node APIs (re-exported here for older imports). */
export { createNode, type AmocNode, type NodeOptions } from "./node/amoc-node.js";
