/** The system tests (see jest.config.js): same setup, their own folder. */
/** @type {import('jest').Config} */
module.exports = { ...require("./jest.config.js"), roots: ["<rootDir>/test/system"] };
