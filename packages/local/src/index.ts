export { createLocalKek, LOCAL_PROVIDER, type LocalKekOptions } from "./local-kek.js";
