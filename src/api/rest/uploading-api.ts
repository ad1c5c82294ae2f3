/** The REST server's Node API with uploads: it lives in src/node/uploads.ts, so every front end sees uploads. */
export { UploadingApi, servesUploads, type RestNodeApi } from "../../node/uploads.js";
