/** rnnc's version, recorded in run environments and generated headers. Keep in step with package.json. */
export const VERSION = "0.1.0";
